"""The use-case layer: what every front end runs. `run_prompt` takes what the user typed to its end;
each front end (print mode, the editor's chat buffers and commands) is an adapter over it."""
