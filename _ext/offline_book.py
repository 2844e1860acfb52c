"""Offline-complete HTML: no page needs the network to render.

A Sphinx extension, loaded by ``_config.yml`` (``sphinx.local_extensions``).

- MathJax 3.2.2 comes from the pinned PyPI wheel ``django-static-mathjax``
  (``pyproject.toml``'s ``book`` extra), found with ``importlib``: no
  Node.js, no CDN. When Sphinx reads its configuration, the wheel's browser
  build (``es5/``, less the combined builds the book does not load; the
  components ``tex-chtml.js`` loads on demand, the fonts, the menu and the
  accessibility tools stay) and its licence are staged in
  ``_build/mathjax/mathjax/`` (build output, git-ignored);
  ``html_extra_path`` copies them to ``_build/html/mathjax/`` and
  ``mathjax_path`` points there.
- sphinx-thebe, which Jupyter Book 1 always loads, writes its settings
  script twice on every page (a console SyntaxError, "THEBE_JS_URL has
  already been declared") and names a CDN copy of thebe. With live code
  off (``launch_buttons.thebe: false``) its scripts and styles are left
  out; with it on, the duplicate is dropped.
- The root ``index.html`` that sphinx-external-toc writes is a bare
  redirect, and a browser then asks for ``/favicon.ico`` (a 404); this one
  names the book's icon, its title and a link for browsers that do not
  follow the redirect.

``tests/test_browser.py`` opens every page with the network blocked and
checks that equations render and the console stays clean.
"""

import html
import json
import os
import posixpath
import shutil
from importlib import resources
from pathlib import Path

from sphinx.errors import ConfigError

STAGING = "_build/mathjax"  # must be listed in html_extra_path
MAJOR = "3."  # the configuration Sphinx writes is MathJax 3's
# Left out: the CDN redirect loader, the Node.js entry point and the
# combined builds other than tex-chtml.js (half of the 24 MB).
LEFT_OUT = ("latest.js", "node-main.js", "tex-chtml-full*.js", "tex-mml-*.js",
            "tex-svg*.js", "mml-*.js")


def mathjax_root():
    """The MathJax distribution inside the installed wheel."""
    try:
        root = resources.files("mathjax") / "static" / "mathjax"
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "MathJax not found: install the book's pinned dependencies "
            "(pip install -e '.[book]', or make book), which include "
            "django-static-mathjax") from exc
    version = json.loads((root / "package.json").read_text())["version"]
    if not version.startswith(MAJOR):
        raise ConfigError(f"django-static-mathjax ships MathJax {version}; "
                          f"the book needs MathJax {MAJOR}x")
    return Path(str(root))


def _copy_if_changed(src, dst):
    """shutil.copy2, skipped when size and modification time agree."""
    if os.path.exists(dst):
        a, b = os.stat(src), os.stat(dst)
        if a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime):
            return dst
    return shutil.copy2(src, dst)


def stage_mathjax(app, config):
    """Copy the wheel's MathJax into the html_extra_path staging folder."""
    if STAGING not in config.html_extra_path:
        raise ConfigError(f"add {STAGING!r} to html_extra_path "
                          "(_config.yml) to serve MathJax from the book")
    root = mathjax_root()
    target = Path(app.confdir, STAGING, "mathjax")
    shutil.copytree(root / "es5", target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*LEFT_OUT),
                    copy_function=_copy_if_changed)
    _copy_if_changed(root / "LICENSE", target / "LICENSE")
    for pattern in LEFT_OUT:  # left by an earlier version of this step
        for stale in target.glob(pattern):
            stale.unlink()


def _is_thebe(asset):
    name = os.fspath(asset.filename or "")
    return ("sphinx-thebe" in name
            or "THEBE_JS_URL" in asset.attributes.get("body", ""))


def trim_thebe(app, pagename, templatename, context, doctree):
    """Drop sphinx-thebe's assets (live code off) or their duplicates."""
    options = app.config.html_theme_options.get("launch_buttons", {})
    if options.get("thebe"):
        unique = list(dict.fromkeys(context["script_files"]))
        context["script_files"] = unique
        return
    context["script_files"] = [js for js in context["script_files"]
                               if not _is_thebe(js)]
    context["css_files"] = [css for css in context["css_files"]
                            if not _is_thebe(css)]


REDIRECT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={url}">
<link rel="icon" href="{icon}">
<title>{title}</title>
</head>
<body><p><a href="{url}">{title}</a></p></body>
</html>
"""


def write_index(app, exception):
    """A root index.html that redirects to the book's first page."""
    if (exception is not None or app.builder.format != "html"
            or app.config.root_doc == "index"):
        return
    icon = app.config.html_favicon or ""
    if icon and "://" not in icon:
        icon = "_static/" + posixpath.basename(icon)
    Path(app.outdir, "index.html").write_text(REDIRECT.format(
        url=html.escape(app.builder.get_target_uri(app.config.root_doc)),
        icon=html.escape(icon), title=html.escape(app.config.html_title)),
        encoding="utf-8")


def setup(app):
    # Before Sphinx's own check that html_extra_path entries exist (800).
    app.connect("config-inited", stage_mathjax, priority=100)
    # After the extensions (MathJax among them) have added their scripts.
    app.connect("html-page-context", trim_thebe, priority=900)
    # Before sphinx-external-toc's bare redirect, written only if missing.
    app.connect("build-finished", write_index, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
