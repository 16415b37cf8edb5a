"""The run's index page: every report with its area, status and headline, self-contained."""

from __future__ import annotations

from html import escape
from pathlib import Path

from helpers.datasets import write_text_atomic
from helpers.run.grid import Job


def write_index(out_dir: Path, jobs: list[Job], provenance: dict) -> None:
    """Write ``index.html`` for a run (every data-derived string escaped)."""
    rows = []
    for j in sorted(jobs, key=lambda j: j.report_id):
        link = f'<a href="{escape(j.files["html"])}">{escape(j.area)}</a>' \
            if "html" in j.files else escape(j.area)
        head = ", ".join(f"{k.replace('_', ' ')}: {v:.3g}" if isinstance(v, float) else
                         f"{k.replace('_', ' ')}: {v}" for k, v in j.headline.items())
        colour = "#009639" if j.status == "ok" else "#DA291C"
        rows.append(f"<tr><td>{escape(j.notebook)}</td><td>{link}</td>"
                    f'<td style="color:{colour}">{escape(j.status)}</td><td>{escape(head)}</td>'
                    f"<td>{j.duration_s:.1f}</td></tr>")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Commissioning analysis pack — reports {escape(provenance['run_id'])}</title>
<style>body{{font-family:Arial,sans-serif;max-width:1100px;margin:2em auto;color:#212b32}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d8dde0;
padding:4px 8px;text-align:left;font-size:14px}}</style></head><body>
<h1>Commissioning analysis pack: reports</h1>
<p>Run {escape(provenance['run_id'])} · data {escape(provenance['data_source'])}
(hash {escape(provenance['data_hash'])}) · code {escape(provenance['git']['commit'][:10])}
· {sum(j.status == 'ok' for j in jobs)} of {len(jobs)} reports succeeded.</p>
<table><thead><tr><th>Notebook</th><th>Area</th><th>Status</th><th>Headline</th>
<th>Seconds</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>
"""
    write_text_atomic(out_dir / "index.html", page)
