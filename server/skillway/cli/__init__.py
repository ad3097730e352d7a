"""The command line: argparse entry points (`main`), print mode, `skillway ship`, doctor. Only this
package parses argv."""
