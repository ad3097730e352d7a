"""What a completion request shows the model, and what it never shows."""

from pathlib import Path

from skillway.completion.context import OpenDocument, build_context

WS = Path("/home/dev/project")


def test_prefix_and_suffix_around_the_cursor_with_relative_path():
    context = build_context("a = 1\nb = \nc = 3\n", 10, WS / "src/m.py", "python", workspace=WS)
    assert (context.prefix, context.suffix, context.path, context.language) == ("a = 1\nb = ", "\nc = 3\n", "src/m.py", "python")


def test_budget_keeps_the_text_nearest_the_cursor():
    text = "x" * 10_000 + "|" + "y" * 10_000
    context = build_context(text, 10_000, WS / "m.py", "python", workspace=WS, budget_chars=1000)
    assert (len(context.prefix), len(context.suffix)) == (700, 300)
    assert context.prefix == "x" * 700 and context.suffix.startswith("|")


def test_other_open_documents_become_snippets_but_never_secret_files():
    others = [OpenDocument(WS / "util.py", "python", "def helper(): ..."),
              OpenDocument(WS / ".env", "dotenv", "API_KEY=abc"),
              OpenDocument(WS / "deploy/id_rsa", "", "-----BEGIN"),
              OpenDocument(WS / "m.py", "python", "the document itself")]
    context = build_context("x", 1, WS / "m.py", "python", workspace=WS, others=others)
    assert context.snippets == (("util.py", "def helper(): ..."),)


def test_a_secret_looking_document_gets_no_context_at_all():
    for name in (".env", ".env.local", "server.pem", "credentials.json", "secrets.yaml", "prod.tfvars"):
        assert build_context("KEY=1", 3, WS / name, "text", workspace=WS) is None, name
