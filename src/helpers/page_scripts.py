"""The scripts the pack writes into its pages, each exactly as here (the lint accepts a
script only if it is one of these, character for character).

A core module with no imports, so the worker that renders pages (which keeps pyarrow and
the analysis stack out of its process) and the kernel that draws tables both read it.
"""

SORTABLE_SCRIPT = r"""<script>
(function () {
  /* Long tables: sort by a column (its header is a button), search and page. Each
     table.pack-sortable holds its first rows as plain HTML (what a reader without
     JavaScript sees) and every row as JSON data beside it; cells are set as text. */
  function num(s) {
    /* a cell as a number: minus signs, £, thousands commas, % and + read; k, m and bn
       multiply (so £950 < £3.6k < £1.2m); anything else ("suppressed", "–") is none */
    var m = /^(-?\d*\.?\d+)(k|m|bn)?$/.exec(
      s.replace(/\u2212/g, "-").replace(/[\u00a3,%+\s]/g, ""));
    return m ? parseFloat(m[1]) * ({k: 1e3, m: 1e6, bn: 1e9}[m[2]] || 1) : null;
  }
  function el(tag, text) {
    var e = document.createElement(tag); if (text) { e.textContent = text; } return e;
  }
  function setUp(t) {
    var data = document.getElementById("pack-rows-" + t.getAttribute("data-key"));
    if (t.getAttribute("data-ready") || !data || !t.tHead || !t.tBodies.length) { return; }
    t.setAttribute("data-ready", "1");
    var all = JSON.parse(data.textContent), shown = all, size = 15, first = 0;
    var key = -1, up = true, body = t.tBodies[0], heads = t.tHead.rows[0].cells;
    var numeric = (t.getAttribute("data-num") || "").split(",").filter(Boolean).map(Number);
    var label = t.caption ? t.caption.textContent.trim() : "";
    /* the caption without an order it states (", highest ratio first"): a reader's sort
       replaces that with the order they chose */
    var base = label.replace(/,\s*[^,]*\bfirst$/i, ""), sorted = "", query = "";
    function caption() {
      /* the caption says the order chosen and, during a search, which rows it shows */
      if (!t.caption) { return; }
      var text = sorted ? (base ? base + ", " : "") + sorted : label;
      if (query) {
        text += "; showing the " + shown.length.toLocaleString("en-GB") +
          (shown.length === 1 ? " row" : " rows") + " matching \u201c" + query + "\u201d";
      }
      t.caption.textContent = text;
    }
    var tools = el("div"), search = el("input"), pick = el("select");
    var back = el("button", "Previous rows"), next = el("button", "Next rows");
    var status = el("p"), sl = el("label", "Search this table "), pl = el("label", "Rows shown ");
    tools.className = "pack-tools"; search.type = "search"; status.className = "pack-status";
    search.setAttribute("aria-label", "Search this table" + (label ? ": " + label : ""));
    status.setAttribute("role", "status"); back.type = next.type = "button";
    [["15", "15"], ["50", "50"], ["100", "100"], ["0", "all"]].forEach(function (o) {
      var e = el("option", o[1]); e.value = o[0]; pick.appendChild(e);
    });
    sl.appendChild(search); pl.appendChild(pick);
    [sl, pl, back, next].forEach(function (e) { tools.appendChild(e); });
    t.parentNode.insertBefore(tools, t);
    t.parentNode.insertBefore(status, t.nextSibling);
    function order() {
      if (key < 0) { return; }
      var n = numeric.indexOf(key) >= 0, d = up ? 1 : -1;
      shown = shown.slice().sort(function (a, b) {
        if (!n) { return d * a[key].localeCompare(b[key], undefined, {numeric: true}); }
        var x = num(a[key]), y = num(b[key]);
        if (x === null || y === null) { return (x === null) - (y === null); }
        return d * (x - y);
      });
    }
    function draw() {
      var last = size ? Math.min(shown.length, first + size) : shown.length;
      body.textContent = "";
      shown.slice(first, last).forEach(function (r) {
        var tr = el("tr");
        r.forEach(function (c, i) {
          var td = el("td", c);
          td.style.textAlign = numeric.indexOf(i) >= 0 ? "right" : "left";
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      back.disabled = first === 0; next.disabled = last >= shown.length; caption();
      status.textContent = shown.length ? "Rows " + (first + 1).toLocaleString("en-GB") +
        "\u2013" + last.toLocaleString("en-GB") + " of " + shown.length.toLocaleString("en-GB") +
        (shown.length < all.length ? " matching (of " + all.length.toLocaleString("en-GB") +
         ")" : "") : "No rows match";
    }
    Array.prototype.forEach.call(heads, function (th, i) {
      var b = el("button");
      b.type = "button"; b.className = "pack-sort";
      while (th.firstChild) { b.appendChild(th.firstChild); }
      th.appendChild(b); th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () {
        up = key === i ? !up : true; key = i;
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var n = numeric.indexOf(i) >= 0;
        sorted = "sorted by " + b.textContent.trim() + ", " +
          (n ? (up ? "lowest first" : "highest first") : (up ? "A to Z" : "Z to A"));
        order(); first = 0; draw();
      });
    });
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      shown = q ? all.filter(function (r) { return r.join(" ").toLowerCase().indexOf(q) >= 0; })
        : all;
      query = search.value.trim();
      order(); first = 0; draw();
    });
    pick.addEventListener("change", function () { size = Number(pick.value); first = 0; draw(); });
    back.addEventListener("click", function () { first = Math.max(0, first - size); draw(); });
    next.addEventListener("click", function () { first += size; draw(); });
    draw();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.pack-sortable"), setUp);
})();
</script>"""
"""The pack's sortable-table script (about 4 kB), once in a rendered page that has a long
table (:func:`helpers.run.render.to_html`) and after each long table in JupyterLab. It is
written here rather than taken from a library: the maintained table libraries (DataTables
through itables, about 970 kB inline) outweighed the pages they served, and the page needs
only sort, search and paging over cells that are already formatted text. The lint accepts
it only exactly as written here."""
