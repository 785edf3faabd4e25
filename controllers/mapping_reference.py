from pathlib import Path

from docutils.core import publish_parts

from odoo import http
from odoo.http import request

REFERENCE = Path(__file__).resolve().parent.parent / "doc" / "mapping.rst"


class MappingReference(http.Controller):
    """The mapping language's reference (doc/mapping.rst), as a page of the target: the
    plan form links to it."""

    @http.route("/remote_data_migration/mapping", type="http", auth="user", readonly=True)
    def mapping_reference(self):
        parts = publish_parts(
            REFERENCE.read_text(encoding="utf-8"),
            writer_name="html",
            settings_overrides={"report_level": 5, "embed_stylesheet": False},
        )
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{parts['title']}</title>"
            "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "pre{background:#f4f6f8;padding:.75rem;overflow:auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
            "vertical-align:top}</style></head>"
            f"<body>{parts['html_body']}</body></html>"
        )
        return request.make_response(page, headers=[("Content-Type", "text/html; charset=utf-8")])
