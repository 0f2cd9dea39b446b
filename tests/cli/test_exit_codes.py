from tests.helpers import run_mcprod


def test_help_lists_the_application() -> None:
    result = run_mcprod(["--help"])
    assert result.returncode == 0
    assert "GitOps for SNO+ Monte Carlo production" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run_mcprod(["no-such-command"])
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr
