"""nginx's regular expressions (PCRE) as Python `re` patterns over bytes, or a reason why not.

nginx runs PCRE without UTF mode on the normalised path's bytes, unanchored (a search), `~*`
with ASCII case folding: `re` on bytes with `search` and `IGNORECASE` does the same. Where the
two dialects read the same text differently, the text is translated; where `re` has no
equivalent, the pattern is refused with the construct named, never approximated:

  PCRE                          here
  (?<name>..) (?'name'..)       (?P<name>..)
  \\k<name> \\k'name' \\k{name} \\g{name}   (?P=name)
  \\gN \\g{N}                     \\N
  \\z  /  \\Z                     \\Z  /  (?=\\n?\\Z)   (re's \\Z is PCRE's \\z)
  \\h \\v \\R \\N \\e \\cX \\x{HH} \\xH   their byte classes and bytes
  \\Q...\\E                       the text, escaped
  [[:alpha:]] and the other POSIX classes   their ASCII ranges
  x{,3}                         a literal `{` (PCRE reads it as text, re as a quantifier)
  [, &, ~, | inside a class     escaped (re warns of future set operations)
  refused: \\K \\G \\X \\C \\p \\P \\o \\g{-N} \\g<..>, recursion and subroutines ((?R), (?1),
  (?&name), (?P>name)), branch reset (?|..), callouts, (*VERBS) such as (*UTF8), the flags
  U J X n, negated POSIX classes, and anything `re` itself rejects (e.g. a lookbehind whose
  alternatives differ in length, which PCRE allows).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "ascii": r"\x00-\x7f",
}
SIMPLE = {
    "z": r"\Z",
    "e": r"\x1b",
    "h": r"[\t \xa0]",
    "H": r"[^\t \xa0]",
    "v": r"[\n\x0b\f\r\x85]",
    "V": r"[^\n\x0b\f\r\x85]",
    "R": r"(?:\r\n|[\n\x0b\f\r\x85])",
}
IN_CLASS = {"h": r"\t \xa0", "v": r"\n\x0b\f\r\x85", "e": r"\x1b"}
REFUSED_ESCAPES = set("KGXCpPo")
FLAGS_OK = set("imsx-")
QUANTIFIER = re.compile(r"\{\d+(,\d*)?\}")
NAME = re.compile(r"[A-Za-z_]\w*")


class UnsupportedRegex(ValueError):
    """The pattern cannot be matched by Python's `re` as PCRE matches it."""


@dataclass(frozen=True, slots=True)
class Regex:
    source: str
    caseless: bool
    compiled: re.Pattern[bytes]

    def search(self, path: bytes) -> re.Match[bytes] | None:
        return self.compiled.search(path)


def compile_pcre(source: str, *, caseless: bool = False) -> Regex:
    """`source` as nginx would run it; raises UnsupportedRegex naming what cannot be."""
    translated = translate(source)
    flags = re.IGNORECASE if caseless else 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            compiled = re.compile(translated.encode("utf-8", "surrogateescape"), flags)
        except (re.error, FutureWarning, DeprecationWarning) as exc:
            raise UnsupportedRegex(f"{source!r}: {exc}") from exc
    return Regex(source, caseless, compiled)


def translate(source: str) -> str:
    """The text of a Python pattern that matches as PCRE matches `source`."""
    return _Translator(source).run()


class _Translator:
    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out: list[str] = []
        self.in_class = False
        self.class_start = 0

    def refuse(self, what: str) -> UnsupportedRegex:
        return UnsupportedRegex(f"{self.src!r}: {what} has no equivalent in Python's re")

    def run(self) -> str:
        while self.i < len(self.src):
            c = self.src[self.i]
            if c == "\\":
                self.escape()
            elif self.in_class:
                self.class_char(c)
            elif c == "[":
                self.open_class()
            elif c == "(":
                self.group()
            elif c == "{" and not QUANTIFIER.match(self.src, self.i):
                self.emit("\\{", 1)
            else:
                self.emit(c, 1)
        return "".join(self.out)

    def emit(self, text: str, consumed: int) -> None:
        self.out.append(text)
        self.i += consumed

    def escape(self) -> None:
        src, i = self.src, self.i
        if i + 1 >= len(src):
            raise UnsupportedRegex(f"{src!r}: a trailing backslash")
        e = src[i + 1]
        if e == "Q":
            end = src.find("\\E", i + 2)
            end = len(src) if end == -1 else end
            literal = src[i + 2 : end]
            self.out.append("".join(re.escape(ch) for ch in literal))
            self.i = end + 2
        elif e == "E":
            self.i += 2
        elif e in REFUSED_ESCAPES:
            raise self.refuse(f"\\{e}")
        elif self.in_class:
            self.escape_in_class(e)
        elif e == "Z":
            self.emit(r"(?=\n?\Z)", 2)
        elif e in SIMPLE:
            self.emit(SIMPLE[e], 2)
        elif e == "N" and not src.startswith("{", i + 2):
            self.emit(r"[^\n]", 2)
        else:
            self.escape_common(e)

    def escape_in_class(self, e: str) -> None:
        if e in IN_CLASS:
            self.emit(IN_CLASS[e], 2)
        elif e in "HVRNZz":
            raise self.refuse(f"\\{e} inside a character class")
        else:
            self.escape_common(e)

    def escape_common(self, e: str) -> None:
        src, i = self.src, self.i
        if e == "c" and i + 2 < len(src):
            self.emit(f"\\x{ord(src[i + 2].upper()) ^ 0x40:02x}", 3)
        elif e == "x":
            self.hex_escape()
        elif e == "k" or (e == "g" and src.startswith("{", i + 2)):
            self.named_reference(e)
        elif e == "g":
            m = re.compile(r"\d+").match(src, i + 2)
            if m is None:
                raise self.refuse(f"\\g{src[i + 2 : i + 3]}")
            self.emit(f"(?:\\{m.group()})", 2 + len(m.group()))
        else:
            self.emit("\\" + e, 2)

    def hex_escape(self) -> None:
        src, i = self.src, self.i
        if src.startswith("{", i + 2):
            end = src.find("}", i + 3)
            digits = src[i + 3 : end] if end != -1 else ""
            if not digits or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise self.refuse("a malformed \\x{...}")
            if int(digits, 16) > 0xFF:
                raise self.refuse(f"\\x{{{digits}}} (above one byte, without UTF mode)")
            self.emit(f"\\x{int(digits, 16):02x}", end + 1 - i)
            return
        m = re.compile(r"[0-9a-fA-F]{0,2}").match(src, i + 2)
        digits = m.group() if m else ""
        self.emit(f"\\x{int(digits or '0', 16):02x}", 2 + len(digits))

    def named_reference(self, e: str) -> None:
        src, i = self.src, self.i
        opener = src[i + 2 : i + 3]
        closer = {"<": ">", "'": "'", "{": "}"}.get(opener)
        end = src.find(closer, i + 3) if closer else -1
        name = src[i + 3 : end] if end != -1 else ""
        if e == "g" and name.lstrip("-").isdigit():
            if name.startswith("-"):
                raise self.refuse("a relative back reference \\g{-N}")
            self.emit(f"(?:\\{name})", end + 1 - i)
            return
        if not NAME.fullmatch(name):
            raise self.refuse(f"\\{e}{src[i + 2 : end + 1]}")
        self.emit(f"(?P={name})", end + 1 - i)

    def open_class(self) -> None:
        self.in_class = True
        self.emit("[", 1)
        if self.src.startswith("^", self.i):
            self.emit("^", 1)
        if self.src.startswith("]", self.i):
            self.emit("\\]", 1)
        self.class_start = self.i

    def class_char(self, c: str) -> None:
        src, i = self.src, self.i
        if c == "]":
            self.in_class = False
            self.emit("]", 1)
        elif src.startswith("[:", i):
            end = src.find(":]", i + 2)
            name = src[i + 2 : end] if end != -1 else ""
            if name.startswith("^"):
                raise self.refuse(f"the negated POSIX class [:{name}:]")
            if name not in POSIX:
                raise self.refuse(f"the POSIX class [:{name}:]")
            self.emit(POSIX[name], end + 2 - i)
        elif c in "[&~|":
            self.emit("\\" + c, 1)
        elif c == "-" and i > self.class_start and src[i - 1] == "-":
            self.emit("\\-", 1)
        else:
            self.emit(c, 1)

    def group(self) -> None:
        src, i = self.src, self.i
        if src.startswith("(*", i):
            raise self.refuse(f"the verb {src[i : src.find(')', i) + 1]}")
        if not src.startswith("(?", i):
            self.emit("(", 1)
            return
        rest = src[i + 2 :]
        m = NAME.match(rest, 1)
        if rest[:1] in ("<", "'") and m and rest[m.end() : m.end() + 1] in (">", "'"):
            self.emit(f"(?P<{m.group()}>", 2 + m.end() + 1)
        elif rest.startswith(("P<", "P=", ":", "=", "!", "<=", "<!", "#", ">", "(")):
            self.emit("(?", 2)
        elif rest[:1] in ("|", "R", "&", "+", "C") or rest[:1].isdigit():
            raise self.refuse(f"the group (?{rest[:1]}")
        elif rest.startswith("P>") or (rest.startswith("-") and rest[1:2].isdigit()):
            raise self.refuse(f"the subroutine call (?{rest[:2]}")
        else:
            flags = re.compile(r"[A-Za-z^-]*").match(rest)
            letters = flags.group() if flags else ""
            if not set(letters) <= FLAGS_OK:
                raise self.refuse(f"the inline flags (?{letters}")
            self.emit("(?", 2)
