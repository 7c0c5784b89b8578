"""yaml_lite: a small YAML-subset loader (Python 3 standard library only).

Written for sluice's test servers to read OpenAPI specs such as
pinterest-5.23.yaml without a YAML library.  Supported:

  * block mappings and block sequences (including "- key: value" items and
    "key:\\n- item" sequences at the key's indentation)
  * plain scalars (also folded over several lines), 'single' and "double"
    quoted scalars (also spanning lines, with YAML escapes)
  * block scalars "|" and ">" with chomping (-, +) and indentation indicators
  * flow collections [a, b] and {k: v} (nested, spanning lines)
  * comments, "---" / "..." document markers, %directives
  * anchors (&a) and aliases (*a), tags are skipped
  * the YAML 1.2 core schema for plain scalars: null/~, true/false,
    integers (decimal, 0x, 0o), floats (including .inf/.nan)

Not supported: complex keys ("? "), multiple documents (the first one is
returned), tabs as indentation.

Usage:  yaml_lite.load(text) -> Python object;  yaml_lite.load_file(path)
"""

import re

__all__ = ["load", "load_file", "YamlError"]


class YamlError(ValueError):
    pass


_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def resolve_plain(s):
    """Type a plain (unquoted) scalar by the YAML 1.2 core schema."""
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT_RE.match(s):
        return int(s)
    if _HEX_RE.match(s):
        return int(s[2:], 16)
    if _OCT_RE.match(s):
        return int(s[2:], 8)
    if _FLOAT_RE.match(s):
        return float(s)
    low = s.lower()
    if low in (".inf", "+.inf"):
        return float("inf")
    if low == "-.inf":
        return float("-inf")
    if low == ".nan":
        return float("nan")
    return s


_DQ_ESC = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n",
    "v": "\v", "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"',
    "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
    "P": "\u2029",
}


def _fold_lines(parts):
    """YAML line folding of the raw lines of a multi-line flow scalar:
    a single line break becomes a space, n empty lines become n newlines."""
    out = ""
    pending_empty = 0
    first = True
    for p in parts:
        if p == "":
            pending_empty += 1
            continue
        if first:
            out = p
            first = False
        elif pending_empty:
            out += "\n" * pending_empty + p
        else:
            out += " " + p
        pending_empty = 0
    if first:
        return ""
    if pending_empty:
        out += "\n" * pending_empty
    return out


def _fold_lines_inner(parts):
    """Folding of a multi-line quoted scalar: parts[0] and parts[-1] are the
    (possibly empty) first and last lines, empty middle parts are empty
    lines."""
    out = parts[0]
    empties = 0
    for p in parts[1:]:
        if p == "" and p is not parts[-1]:
            empties += 1
            continue
        out += ("\n" * empties if empties else " ") + p
        empties = 0
    return out


class _Parser:
    def __init__(self, text):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text.startswith("\ufeff"):
            text = text[1:]
        self.lines = text.split("\n")
        self.n = len(self.lines)
        self.i = 0
        self.anchors = {}

    # ------------------------------------------------------------ helpers
    def err(self, msg, lineno=None):
        ln = (self.i if lineno is None else lineno) + 1
        raise YamlError("line %d: %s" % (ln, msg))

    @staticmethod
    def indent_of(line):
        return len(line) - len(line.lstrip(" "))

    def is_blank(self, line):
        s = line.strip()
        return s == "" or s.startswith("#")

    def skip_blank(self):
        while self.i < self.n:
            line = self.lines[self.i]
            s = line.strip()
            if s == "" or s.startswith("#"):
                self.i += 1
                continue
            if self.indent_of(line) == 0 and (
                    s == "---" or s.startswith("--- ") or s.startswith("%")):
                if s.startswith("--- ") and s[4:].strip() and not s[4:].strip().startswith("#"):
                    # "--- value" : keep the value on this line
                    self.lines[self.i] = "    " + s[4:]
                    return
                self.i += 1
                continue
            if self.indent_of(line) == 0 and s == "...":
                self.i = self.n
                return
            return

    @staticmethod
    def strip_comment(s):
        """Remove a trailing ' #comment' from a plain piece of text."""
        if s.startswith("#"):
            return ""
        k = s.find(" #")
        t = s.find("\t#")
        if t >= 0 and (k < 0 or t < k):
            k = t
        if k >= 0:
            s = s[:k]
        return s.rstrip()

    @staticmethod
    def scan_quoted(s, pos):
        """Find the end of a quoted scalar starting at s[pos] on ONE line.
        Returns the index after the closing quote, or -1 if unterminated."""
        q = s[pos]
        j = pos + 1
        while j < len(s):
            c = s[j]
            if q == "'":
                if c == "'":
                    if j + 1 < len(s) and s[j + 1] == "'":
                        j += 2
                        continue
                    return j + 1
            else:
                if c == "\\":
                    j += 2
                    continue
                if c == '"':
                    return j + 1
            j += 1
        return -1

    def split_key(self, content):
        """If content (a stripped line) starts with 'key:' return
        (key, rest_after_colon), else None."""
        if not content:
            return None
        c0 = content[0]
        if c0 in "#[{|>!&*%@`,?":
            return None
        if c0 == "-" and (len(content) == 1 or content[1] in " \t"):
            return None
        if content[0] in "'\"":
            end = self.scan_quoted(content, 0)
            if end < 0:
                return None
            rest = content[end:].lstrip(" ")
            if rest.startswith(":") and (len(rest) == 1 or rest[1] in " \t"):
                key = self.unquote_single_line(content[:end])
                return key, rest[1:]
            return None
        # plain key: first ': ' (or ':' at end) before any ' #'
        m = re.search(r":(\s|$)", content)
        if not m:
            return None
        c = content.find(" #")
        if c >= 0 and c < m.start():
            return None
        key = content[:m.start()].rstrip()
        return resolve_plain(key), content[m.start() + 1:]

    def unquote_single_line(self, tok):
        return self.unquote(tok[0], [tok[1:-1]])

    def unquote(self, q, raw_lines):
        """raw_lines: the text between the quotes, split at line breaks
        (first line not stripped at the start, others stripped both sides
        except as YAML says)."""
        if q == "'":
            if len(raw_lines) == 1:
                return raw_lines[0].replace("''", "'")
            parts = [ln.strip(" \t") for ln in raw_lines]
            parts[0] = raw_lines[0].rstrip(" \t")
            parts[-1] = raw_lines[-1].lstrip(" \t")
            return _fold_lines_inner(parts).replace("''", "'")
        # double quoted: handle escaped line breaks, then folding, then escapes
        if len(raw_lines) == 1:
            return self.dq_escapes(raw_lines[0])
        out = ""
        pending_empty = 0
        joined_escape = False
        for k, ln in enumerate(raw_lines):
            seg = ln
            if k > 0:
                seg = seg.lstrip(" \t")
            if k < len(raw_lines) - 1:
                seg_r = seg.rstrip(" \t")
                # an odd number of trailing backslashes escapes the break
                nb = len(seg_r) - len(seg_r.rstrip("\\"))
                if nb % 2 == 1:
                    seg = seg_r[:-1]
                    piece = self.dq_escapes(seg)
                    out = self._dq_join(out, piece, k, pending_empty, joined_escape)
                    pending_empty = 0
                    joined_escape = True
                    continue
                seg = seg_r
            if seg == "" and 0 < k < len(raw_lines) - 1:
                pending_empty += 1
                continue
            piece = self.dq_escapes(seg)
            out = self._dq_join(out, piece, k, pending_empty, joined_escape)
            pending_empty = 0
            joined_escape = False
        return out

    @staticmethod
    def _dq_join(out, piece, k, pending_empty, joined_escape):
        if k == 0 or joined_escape:
            return out + piece
        if pending_empty:
            return out + "\n" * pending_empty + piece
        return out + " " + piece

    def dq_escapes(self, s):
        if "\\" not in s:
            return s
        out = []
        j = 0
        while j < len(s):
            c = s[j]
            if c != "\\":
                out.append(c)
                j += 1
                continue
            if j + 1 >= len(s):
                out.append("\\")
                break
            e = s[j + 1]
            if e in _DQ_ESC:
                out.append(_DQ_ESC[e])
                j += 2
            elif e in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                hexs = s[j + 2:j + 2 + width]
                try:
                    cp = int(hexs, 16)
                except ValueError:
                    self.err("bad escape \\%s%s" % (e, hexs))
                out.append(chr(cp))
                j += 2 + width
            else:
                self.err("unknown escape \\%s" % e)
        s2 = "".join(out)
        # join UTF-16 surrogate pairs written as two \u escapes
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in s2):
            s2 = s2.encode("utf-16", "surrogatepass").decode("utf-16")
        return s2

    # ------------------------------------------------------------ nodes
    def parse_node(self, min_indent):
        """Parse the block node starting at the next non-blank line whose
        indentation is >= min_indent; None if there is none."""
        self.skip_blank()
        if self.i >= self.n:
            return None
        line = self.lines[self.i]
        ind = self.indent_of(line)
        if ind < min_indent:
            return None
        content = line[ind:]
        if content.startswith("\t"):
            self.err("tabs are not allowed as indentation")
        anchor = None
        # properties (anchor / tag) alone on a line, before a block node
        m = re.match(r"^(&(\S+)|!\S*)(\s+|$)", content)
        if m:
            rest = content[m.end():]
            if m.group(2):
                anchor = m.group(2)
            if rest.strip() == "" or rest.strip().startswith("#"):
                self.i += 1
                node = self.parse_node(min_indent)
                if anchor:
                    self.anchors[anchor] = node
                return node
        if content == "-" or content.startswith("- ") or content.startswith("-\t"):
            return self.parse_seq(ind)
        if self.split_key(content) is not None:
            return self.parse_map(ind)
        # a scalar or flow node on its own line(s)
        self.i += 1
        return self.parse_inline(content, ind - 1, ind)

    def parse_map(self, ind):
        result = {}
        while True:
            self.skip_blank()
            if self.i >= self.n:
                break
            line = self.lines[self.i]
            cur = self.indent_of(line)
            if cur < ind:
                break
            if cur > ind:
                self.err("bad indentation of a mapping entry")
            content = line[ind:]
            if content == "-" or content.startswith("- "):
                break
            kv = self.split_key(content)
            if kv is None:
                self.err("expected 'key: value', got %r" % content[:60])
            key, rest = kv
            keyline = self.i
            self.i += 1
            value = self.parse_value(rest, ind, seq_allowed_at_same=True)
            if isinstance(key, (list, dict)):
                self.err("complex keys are not supported", keyline)
            result[key] = value
        return result

    def parse_seq(self, ind):
        result = []
        while True:
            self.skip_blank()
            if self.i >= self.n:
                break
            line = self.lines[self.i]
            cur = self.indent_of(line)
            if cur < ind:
                break
            if cur > ind:
                self.err("bad indentation of a sequence entry")
            content = line[ind:]
            if not (content == "-" or content.startswith("- ") or content.startswith("-\t")):
                break
            rest = content[1:]
            stripped = rest.lstrip(" \t")
            if stripped == "" or stripped.startswith("#"):
                self.i += 1
                result.append(self.parse_node(ind + 1))
                continue
            col = ind + 1 + (len(rest) - len(stripped))
            if (stripped == "-" or stripped.startswith("- ")
                    or self.split_key(stripped) is not None):
                # a nested block node that starts on the dash's line: re-read
                # the line as if the dash were a space
                self.lines[self.i] = " " * col + stripped
                result.append(self.parse_node(col))
                continue
            self.i += 1
            result.append(self.parse_inline(stripped, ind, col))
        return result

    def parse_value(self, rest, ind, seq_allowed_at_same=False):
        """The value after 'key:' (rest is the text after the colon);
        ind is the indentation of the key."""
        s = rest.strip(" \t")
        if s == "" or s.startswith("#"):
            self.skip_blank()
            if self.i >= self.n:
                return None
            line = self.lines[self.i]
            cur = self.indent_of(line)
            if cur > ind:
                return self.parse_node(cur)
            if cur == ind and seq_allowed_at_same:
                c = line[cur:]
                if c == "-" or c.startswith("- "):
                    return self.parse_seq(ind)
            return None
        col = len(rest) - len(rest.lstrip(" \t"))
        return self.parse_inline(s, ind, col)

    def parse_inline(self, s, ind, col):
        """A node that starts within a line: s is its text (line already
        consumed); continuation lines must be indented more than ind."""
        anchor = None
        m = re.match(r"^&(\S+)\s*", s)
        if m:
            anchor = m.group(1)
            s = s[m.end():]
            if s == "" or s.startswith("#"):
                node = self.parse_node(ind + 1)
                self.anchors[anchor] = node
                return node
        m = re.match(r"^!\S*\s*", s)
        if m:
            s = s[m.end():]
            if s == "" or s.startswith("#"):
                return self.parse_node(ind + 1)
        if s.startswith("*"):
            name = self.strip_comment(s)[1:]
            if name not in self.anchors:
                self.err("unknown alias *%s" % name, self.i - 1)
            return self.anchors[name]
        c = s[0]
        if c in "|>":
            node = self.parse_block_scalar(s, ind)
        elif c in "'\"":
            node = self.parse_quoted(s, ind)
        elif c in "[{":
            node = self.parse_flow(s, ind)
        else:
            node = self.parse_plain(s, ind)
        if anchor:
            self.anchors[anchor] = node
        return node

    def parse_plain(self, s, ind):
        first = self.strip_comment(s)
        parts = [first]
        if s != first and " #" in s:
            # a comment ends a plain scalar
            return resolve_plain(first)
        j = self.i
        empties = 0
        while j < self.n:
            line = self.lines[j]
            st = line.strip()
            if st == "":
                empties += 1
                j += 1
                continue
            if self.indent_of(line) <= ind or st.startswith("#"):
                break
            if ind < 0 and (st == "---" or st == "..."):
                break
            parts.extend([""] * empties)
            empties = 0
            text = self.strip_comment(st)
            parts.append(text)
            j += 1
            self.i = j
            if text != st:
                break
        if len(parts) == 1:
            return resolve_plain(first)
        return _fold_lines(parts)

    def parse_quoted(self, s, ind):
        q = s[0]
        end = self.scan_quoted(s, 0)
        if end >= 0:
            tail = s[end:].strip()
            if tail and not tail.startswith("#"):
                self.err("unexpected text after quoted scalar: %r" % tail[:40], self.i - 1)
            return self.unquote(q, [s[1:end - 1]])
        raw = [s[1:]]
        start = self.i - 1
        while True:
            if self.i >= self.n:
                self.err("unterminated quoted scalar", start)
            line = self.lines[self.i]
            self.i += 1
            # find the closing quote on this line
            probe = q + line  # scan as if a quote opened before the line
            e = self.scan_quoted(probe, 0)
            if e >= 0:
                raw.append(probe[1:e - 1])
                tail = probe[e:].strip()
                if tail and not tail.startswith("#"):
                    self.err("unexpected text after quoted scalar", self.i - 1)
                break
            raw.append(line)
        return self.unquote(q, raw)

    def parse_block_scalar(self, s, ind):
        header = self.strip_comment(s)
        m = re.match(r"^([|>])([-+]?)([1-9]?)([-+]?)$", header)
        if not m:
            self.err("bad block scalar header %r" % header, self.i - 1)
        style = m.group(1)
        chomp = m.group(2) or m.group(4)
        explicit = m.group(3)
        # collect lines
        lines = []
        j = self.i
        content_indent = None
        if explicit:
            content_indent = max(ind, 0) + int(explicit)
        while j < self.n:
            line = self.lines[j]
            if line.strip() == "":
                lines.append("")
                j += 1
                continue
            li = self.indent_of(line)
            if content_indent is None:
                if li <= ind:
                    break
                content_indent = li
            if li < content_indent:
                break
            lines.append(line[content_indent:])
            j += 1
        # trailing empty lines belong to the scalar only for chomping
        trailing = 0
        while lines and lines[-1] == "":
            lines.pop()
            trailing += 1
        self.i = j
        if style == "|":
            text = "\n".join(lines)
        else:
            text = ""
            prev_more = False
            empties = 0
            first = True
            for ln in lines:
                if ln == "":
                    empties += 1
                    continue
                more = ln.startswith(" ") or ln.startswith("\t")
                if first:
                    text = "\n" * empties + ln
                    first = False
                elif empties:
                    # n empty lines between folded lines -> n newlines;
                    # around more-indented lines the break is kept too
                    extra = 1 if (more or prev_more) else 0
                    text += "\n" * (empties + extra) + ln
                elif more or prev_more:
                    text += "\n" + ln
                else:
                    text += " " + ln
                empties = 0
                prev_more = more
            if first:
                text = ""
        if not lines:
            return "" if chomp != "+" else "\n" * trailing
        if chomp == "-":
            return text
        if chomp == "+":
            return text + "\n" + "\n" * trailing
        return text + "\n"

    # ------------------------------------------------------------ flow
    def parse_flow(self, s, ind):
        start = self.i - 1
        buf = s
        # gather lines until the brackets balance (outside quotes)
        while True:
            depth, ok = self._flow_balance(buf)
            if ok:
                break
            if self.i >= self.n:
                self.err("unterminated flow collection", start)
            buf += " " + self.lines[self.i].strip()
            self.i += 1
        fp = _FlowParser(buf, self, start)
        node = fp.parse_value()
        fp.skip_ws()
        if fp.pos < len(buf) and not buf[fp.pos:].lstrip().startswith("#"):
            self.err("unexpected text after flow collection: %r" % buf[fp.pos:][:40], start)
        return node

    def _flow_balance(self, buf):
        depth = 0
        j = 0
        started = False
        while j < len(buf):
            c = buf[j]
            if c in "'\"":
                e = self.scan_quoted(buf, j)
                if e < 0:
                    return depth, False
                j = e
                continue
            if c == "#" and (j == 0 or buf[j - 1] in " \t"):
                # comment up to the end of this (joined) piece: remove it
                return depth, False if depth else True
            if c in "[{":
                depth += 1
                started = True
            elif c in "]}":
                depth -= 1
                if depth == 0 and started:
                    return 0, True
            j += 1
        return depth, depth == 0


class _FlowParser:
    def __init__(self, s, owner, lineno):
        self.s = s
        self.pos = 0
        self.owner = owner
        self.lineno = lineno

    def err(self, msg):
        self.owner.err("%s (in flow collection, column %d)" % (msg, self.pos + 1), self.lineno)

    def skip_ws(self):
        while self.pos < len(self.s) and self.s[self.pos] in " \t\n":
            self.pos += 1

    def parse_value(self):
        self.skip_ws()
        if self.pos >= len(self.s):
            self.err("unexpected end")
        c = self.s[self.pos]
        if c == "[":
            return self.parse_seq()
        if c == "{":
            return self.parse_map()
        if c in "'\"":
            e = self.owner.scan_quoted(self.s, self.pos)
            if e < 0:
                self.err("unterminated quoted scalar")
            tok = self.s[self.pos:e]
            self.pos = e
            return self.owner.unquote(tok[0], [tok[1:-1]])
        return self.parse_plain()

    def parse_plain(self):
        start = self.pos
        while self.pos < len(self.s):
            c = self.s[self.pos]
            if c in ",]}":
                break
            if c == ":" and (self.pos + 1 >= len(self.s) or self.s[self.pos + 1] in " \t,]}"):
                break
            if c == "#" and self.pos > start and self.s[self.pos - 1] in " \t":
                break
            self.pos += 1
        return resolve_plain(self.s[start:self.pos].strip())

    def parse_seq(self):
        self.pos += 1
        out = []
        while True:
            self.skip_ws()
            if self.pos >= len(self.s):
                self.err("unterminated [")
            if self.s[self.pos] == "]":
                self.pos += 1
                return out
            v = self.parse_value()
            self.skip_ws()
            # single-pair mapping inside a sequence: [a: b]
            if self.pos < len(self.s) and self.s[self.pos] == ":":
                self.pos += 1
                v = {v: self.parse_value()}
                self.skip_ws()
            out.append(v)
            if self.pos < len(self.s) and self.s[self.pos] == ",":
                self.pos += 1
            elif self.pos < len(self.s) and self.s[self.pos] == "]":
                continue
            else:
                self.err("expected , or ]")

    def parse_map(self):
        self.pos += 1
        out = {}
        while True:
            self.skip_ws()
            if self.pos >= len(self.s):
                self.err("unterminated {")
            if self.s[self.pos] == "}":
                self.pos += 1
                return out
            k = self.parse_value()
            self.skip_ws()
            v = None
            if self.pos < len(self.s) and self.s[self.pos] == ":":
                self.pos += 1
                self.skip_ws()
                if self.pos < len(self.s) and self.s[self.pos] in ",}":
                    v = None
                else:
                    v = self.parse_value()
            out[k] = v
            self.skip_ws()
            if self.pos < len(self.s) and self.s[self.pos] == ",":
                self.pos += 1
            elif self.pos < len(self.s) and self.s[self.pos] == "}":
                continue
            else:
                self.err("expected , or }")


def load(text):
    """Parse YAML text (the subset described in the module doc)."""
    p = _Parser(text)
    node = p.parse_node(0)
    p.skip_blank()
    if p.i < p.n:
        p.err("unexpected content (bad indentation?)")
    return node


def load_file(path):
    with open(path, "r", encoding="utf-8") as f:
        return load(f.read())


if __name__ == "__main__":
    import json
    import sys
    for arg in sys.argv[1:]:
        json.dump(load_file(arg), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
