"""The command line. Only this package imports typer; commands delegate to one function each."""
