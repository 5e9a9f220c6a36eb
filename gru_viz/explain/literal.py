"""Untrusted text — from a link, a file name, a file's contents — made safe to put inside a markdown string
(``st.info``, ``st.error``, ``st.caption``, ``st.markdown``, headings): it shows as itself, shortened.

Streamlit renders those strings with remark (CommonMark + GFM + math + directives + emoji). Backslash escapes
stop links, images, emphasis, code, math and HTML; they do not stop GFM's bare-URL, ``www.`` and e-mail
autolinks nor ``:emoji:`` and ``:material/…:`` (those act on text after the escapes are resolved), so a
word joiner (U+2060, invisible) goes after such a colon, before such an ``@`` and inside ``www.``. The text is
put on one line, so no block (heading, list, quote, table, code block) can start inside it, and a character
that would start one at the beginning of a line is escaped too. Only what could take effect is escaped
(``reset_after``, ``bias:0`` and ``(2, 12)`` stay as they are), so messages read the same in the source.
tests/test_escaping.py checks it in Streamlit's real renderer (the frontend bundle's remark pipeline).
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# Controls, and the bidirectional overrides that make "evil\u202egnp.exe" display as "evilexe.png".
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Always: backslash, code, emphasis, strike, links and images, HTML and autolinks, math.
_ESCAPED = re.compile(r"([\\`*~\[\]<$])")
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # emphasis; snake_case stays as it is
_ENTITY = re.compile(r"&(?=#?\w+;)")  # &lt; &#91; would show as another character
# A colon that could start ":emoji:" (also ":+1:", ":100:"), ":material/x:", a ":directive", "::" or "scheme://".
_COLON = re.compile(r":(?=[/:A-Za-z]|[\w+-]+:)")
_MARK = "\ue000"  # (private use) where a colon is to be broken, found before the escapes change what follows it
_AT = re.compile(r"(?<=\S)@(?=\S)")  # e-mail autolinks
_WWW = re.compile(r"(?i)(www)\.")
_TYPOGRAPHY = re.compile(r"(?<=[-<>~])(?=[->=])")  # "->" "<-" "--" ">=" "<=" "~=" would become arrows, dashes, ≥
_LINE_START = re.compile(r"^([#>+=|-])|^(\d+)([.)])")  # a heading, quote, list item, setext line, table row


def shorten(text: object, limit: int = 80) -> str:
    """``text`` as a string of at most ``limit`` characters (cut with "…")."""
    s = str(text)
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def literal(text: object, limit: int | None = 80) -> str:
    """``text`` (shortened to ``limit`` characters; None keeps it whole) escaped so that Streamlit's markdown
    shows it as plain text on one line: never a link, an image, a heading, emphasis, code, math or an icon."""
    s = str(text) if limit is None else shorten(text, limit)
    s = _INVISIBLE.sub("\ufffd", _LINE_BREAKS.sub(" ", s.replace(_MARK, "\ufffd")))
    s = _COLON.sub(_MARK, s)
    s = _ESCAPED.sub(r"\\\1", s)
    s = _UNDERSCORE.sub(r"\\_", s)
    s = _ENTITY.sub(r"\\&", s)
    s = s.replace(_MARK, "\\:" + WORD_JOINER)
    s = _AT.sub(WORD_JOINER + "@", s)
    s = _WWW.sub(r"\1" + WORD_JOINER + ".", s)
    s = _TYPOGRAPHY.sub(WORD_JOINER, s)
    s = _LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), s)
    return s


def quoted(text: object, limit: int = 60) -> str:
    """``literal`` of ``repr(text)``: a user's value in quotes, as messages show one ('k.npz')."""
    return literal(repr(str(text)) if len(str(text)) <= limit else repr(shorten(text, limit)), None)
