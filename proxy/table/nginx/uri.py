"""The path nginx matches locations against: the request target, decoded once and normalised.

A port of nginx's ngx_http_parse_complex_uri (merge_slashes on, as nginx's default): `%XX` is
decoded and the decoded byte is read again as part of the path (so `%2F` is a `/` and `%2E%2E`
a dot segment), except that a decoded `%`, `#` or `?` is kept as a plain character; `.` and
`..` segments are resolved; repeated slashes are merged; the query starts at the first literal
`?`, a literal `#` ends the target. What nginx answers 400 (a bad escape, `%00`, a `..` above
the root, a raw space or control character, refused in request lines since nginx 1.21.1) is
`None`. Bytes in, bytes out: nginx matches bytes, not text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

HEX = b"0123456789abcdefABCDEF"


class _State(Enum):
    USUAL = auto()
    SLASH = auto()
    DOT = auto()
    DOT_DOT = auto()
    QUOTED = auto()
    QUOTED_SECOND = auto()


@dataclass(frozen=True, slots=True)
class Uri:
    path: bytes
    query: bytes | None


def normalise(target: bytes, *, merge_slashes: bool = True) -> Uri | None:
    """The normalised path and the query of an origin-form request target; None for a target
    nginx refuses with 400."""
    if not target.startswith(b"/") or any(b <= 0x20 or b == 0x7F for b in target):
        return None
    return _Parser(target, merge_slashes).run()


class _Parser:
    def __init__(self, target: bytes, merge_slashes: bool) -> None:
        self.target = target
        self.merge = merge_slashes
        self.out = bytearray()
        self.state = _State.USUAL
        self.quoted_state = _State.USUAL
        self.decoded = 0

    def run(self) -> Uri | None:
        data, p = self.target, 0
        ch = data[0]
        p = 1
        while p <= len(data):
            step = self.step(ch)
            if step is None:
                return None
            if step == "reread":
                ch = self.decoded_char
                continue
            if step in ("args", "done"):
                query = None
                if step == "args":
                    query = data[p:].split(b"#", 1)[0]
                return Uri(bytes(self.out), query)
            ch = data[p] if p < len(data) else 0x0A
            p += 1
        return self.finish()

    decoded_char = 0

    def step(self, ch: int) -> str | None:
        """Consume `ch`: "next" for the next byte, "reread" to read the decoded byte again,
        "args"/"done" at the end of the path, None for a target nginx refuses."""
        c = chr(ch)
        state = self.state
        if state is _State.QUOTED:
            if ch not in HEX:
                return None
            self.decoded = int(c, 16)
            self.state = _State.QUOTED_SECOND
            return "next"
        if state is _State.QUOTED_SECOND:
            return self.second_hex(ch)
        if c == "%":
            self.quoted_state, self.state = state, _State.QUOTED
            return "next"
        if state is _State.USUAL:
            return self.usual(ch)
        if state is _State.SLASH:
            return self.slash(ch)
        if state is _State.DOT:
            return self.dot(ch)
        return self.dot_dot(ch)

    def second_hex(self, ch: int) -> str | None:
        if ch not in HEX:
            return None
        value = (self.decoded << 4) + int(chr(ch), 16)
        # nginx keeps a decoded `%`, `#` (from a digit) or `?` (from a letter) as a plain byte
        if (chr(ch).isdigit() and value in b"%#") or (not chr(ch).isdigit() and value == 0x3F):
            self.state = _State.USUAL
            self.out.append(value)
            return "next"
        if value == 0:
            return None
        self.state = self.quoted_state
        self.decoded_char = value
        return "reread"

    def usual(self, ch: int) -> str | None:
        if ch == 0x2F:
            self.state = _State.SLASH
        elif ch == 0x3F:
            return "args"
        elif ch == 0x23:
            return "done"
        self.out.append(ch)
        return "next"

    def slash(self, ch: int) -> str | None:
        if ch == 0x2F:
            if not self.merge:
                self.out.append(ch)
            return "next"
        if ch == 0x3F:
            return "args"
        if ch == 0x23:
            return "done"
        self.state = _State.DOT if ch == 0x2E else _State.USUAL
        self.out.append(ch)
        return "next"

    def dot(self, ch: int) -> str | None:
        if ch in (0x2F, 0x3F, 0x23):
            self.out.pop()
            self.state = _State.SLASH
            return {0x2F: "next", 0x3F: "args", 0x23: "done"}[ch]
        self.state = _State.DOT_DOT if ch == 0x2E else _State.USUAL
        self.out.append(ch)
        return "next"

    def dot_dot(self, ch: int) -> str | None:
        if ch in (0x2F, 0x3F, 0x23):
            if not self.up():
                return None
            self.state = _State.SLASH
            return {0x2F: "next", 0x3F: "args", 0x23: "done"}[ch]
        self.state = _State.USUAL
        self.out.append(ch)
        return "next"

    def up(self) -> bool:
        """Drop `/segment/..`, as nginx does: back four bytes, then to the previous slash."""
        i = len(self.out) - 4
        while True:
            if i < 0:
                return False
            if self.out[i] == 0x2F:
                del self.out[i + 1 :]
                return True
            i -= 1

    def finish(self) -> Uri | None:
        if self.state in (_State.QUOTED, _State.QUOTED_SECOND):
            return None
        if self.state is _State.DOT:
            self.out.pop()
        elif self.state is _State.DOT_DOT and not self.up():
            return None
        return Uri(bytes(self.out), None)
