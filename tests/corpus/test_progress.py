import io

from corpus.progress import LOG_INTERVAL_S, progress


class FakeStderr(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_off_a_terminal_the_bar_is_throttled_and_switchable(monkeypatch):
    log = FakeStderr(tty=False)
    monkeypatch.setattr("sys.stderr", log)
    bar = progress(range(100_000), desc="docs", file=log)
    assert bar.mininterval == LOG_INTERVAL_S and not bar.disable
    assert sum(1 for _ in bar) == 100_000
    # A quick run writes its first and last state, not one line per update.
    assert log.getvalue().count("\r") <= 3
    quiet = progress(range(10), enabled=False)
    assert quiet.disable and list(quiet) == list(range(10))


def test_on_a_terminal_the_bar_is_live(monkeypatch):
    tty = FakeStderr(tty=True)
    monkeypatch.setattr("sys.stderr", tty)
    assert progress(range(3), file=tty).mininterval < 1
