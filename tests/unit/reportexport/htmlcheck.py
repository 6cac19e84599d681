#!/usr/bin/python3
"""Structure and safety check of an HTML report, for tst_reportexport.

Usage: htmlcheck.py FILE   (FILE: UTF-8 HTML; "-": stdin)

Prints one JSON object on stdout:
  errors      what makes the page unsafe or broken: a <script>, an event handler
              attribute, a reference to anything outside the page (src/href/...
              to http(s):, //, or any url( / @import in CSS), tags that do not
              nest, a missing doctype/charset; empty when the page is fine
  text        the text a reader sees (entities decoded, style content excluded)
  tags        count of each start tag
  ids         element ids in document order
  problems    text of each <div class="problem ..."> in order
  caps        rows of table.caps: {"class": ..., "cells": [...]}
  bars        rect.bar of the waterfall: {"class", "x", "width", "start_us", "duration_us"}
  style       the inline CSS
  pre         text of each <pre class="command">
Exit status 0 whenever the file could be read (the test judges the result).
"""

import json
import re
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
# Elements that can load something, run something or navigate by themselves.
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "link", "base", "img", "frame",
                  "frameset", "audio", "video", "source", "form", "image", "use", "foreignobject"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset",
             "data", "background", "cite", "longdesc", "manifest", "ping"}
EXTERNAL = re.compile(r"^\s*(https?:|//|ftp:|file:|javascript:)", re.I)
CSS_EXTERNAL = re.compile(r"url\s*\(|@import|expression\s*\(", re.I)
# SVG elements keep their case in the source; html.parser lowercases them.
SVG_SELF_CLOSING_OK = {"line", "rect", "circle", "path", "polyline", "polygon", "ellipse"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.errors = []
        self.stack = []
        self.text = []
        self.tags = {}
        self.ids = []
        self.problems = []
        self.caps = []
        self.bars = []
        self.style = []
        self.pre = []
        self.doctype = False
        self.charset = False
        self._problem_depth = None
        self._problem_text = []
        self._caps_depth = None
        self._row = None
        self._cell = None
        self._pre = None

    # -- helpers
    def _classes(self, attrs):
        return (dict(attrs).get("class") or "").split()

    def _check_attrs(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.errors.append(f"event handler attribute {name} on <{tag}>")
            if name in URL_ATTRS and value.strip():
                self.errors.append(f"<{tag} {name}={value!r}>: the page must not reference anything")
                if EXTERNAL.search(value):
                    self.errors.append(f"external reference {value!r} in <{tag} {name}>")
            if name == "style" and CSS_EXTERNAL.search(value):
                self.errors.append(f"external reference in style attribute of <{tag}>")
            if name == "http-equiv" and value.lower() == "refresh":
                self.errors.append("meta refresh")
            if name == "charset" and value.lower() == "utf-8":
                self.charset = True
            if name == "id":
                self.ids.append(value)

    # -- parser events
    def handle_decl(self, decl):
        if decl.lower() == "doctype html":
            self.doctype = True

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._check_attrs(tag, attrs)
        if tag in FORBIDDEN_TAGS:
            self.errors.append(f"forbidden element <{tag}>")
        classes = self._classes(attrs)
        if tag == "div" and "problem" in classes and self._problem_depth is None:
            self._problem_depth = len(self.stack)
            self._problem_text = []
        if tag == "table" and "caps" in classes:
            self._caps_depth = len(self.stack)
        if self._caps_depth is not None and tag == "tr":
            self._row = {"class": dict(attrs).get("class") or "", "cells": []}
        if self._row is not None and tag in ("td", "th"):
            self._cell = []
        if tag == "pre" and "command" in classes:
            self._pre = []
        if tag == "rect" and "bar" in classes:
            a = dict(attrs)
            try:
                self.bars.append({"class": a.get("class", ""), "x": float(a["x"]), "width": float(a["width"]),
                                  "start_us": int(a["data-start-us"]), "duration_us": int(a["data-duration-us"])})
            except (KeyError, ValueError) as e:
                self.errors.append(f"waterfall bar without numeric geometry: {e}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        # <line .../> in SVG: a complete element.
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._check_attrs(tag, attrs)
        if tag in FORBIDDEN_TAGS:
            self.errors.append(f"forbidden element <{tag}>")
        if tag not in VOID and tag not in SVG_SELF_CLOSING_OK:
            self.errors.append(f"self-closing <{tag}/> outside SVG shapes")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the open <{self.stack[-1] if self.stack else '(nothing)'}>")
            if tag in self.stack:
                while self.stack and self.stack[-1] != tag:
                    self.stack.pop()
                self.stack.pop()
            return
        self.stack.pop()
        if self._cell is not None and tag in ("td", "th"):
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        if self._row is not None and tag == "tr":
            self.caps.append(self._row)
            self._row = None
        if self._caps_depth is not None and tag == "table" and len(self.stack) == self._caps_depth:
            self._caps_depth = None
        if self._problem_depth is not None and tag == "div" and len(self.stack) == self._problem_depth:
            self.problems.append(" ".join("".join(self._problem_text).split()))
            self._problem_depth = None
        if self._pre is not None and tag == "pre":
            self.pre.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style.append(data)
            return
        if self.stack and self.stack[-1] == "script":
            return
        self.text.append(data)
        if self._problem_depth is not None:
            self._problem_text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._pre is not None:
            self._pre.append(data)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "-"
    raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    c = Checker()
    try:
        html = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        html = raw.decode("utf-8", "replace")
        c.errors.append(f"not UTF-8: {e}")
    c.feed(html)
    c.close()
    if c.stack:
        c.errors.append("unclosed elements at the end: " + " ".join(c.stack))
    if not c.doctype:
        c.errors.append("no <!DOCTYPE html>")
    if not c.charset:
        c.errors.append("no <meta charset=\"utf-8\">")
    style = "".join(c.style)
    if CSS_EXTERNAL.search(style):
        c.errors.append("external reference (url( or @import) in <style>")
    if re.search(r"@font-face", style, re.I):
        c.errors.append("web font in <style>")
    json.dump({"errors": c.errors, "text": "".join(c.text), "tags": c.tags, "ids": c.ids,
               "problems": c.problems, "caps": c.caps, "bars": c.bars, "style": style, "pre": c.pre},
              sys.stdout)


if __name__ == "__main__":
    main()
