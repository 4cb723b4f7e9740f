// Search and sort for the report's tables: it reads the rows from the DOM and writes no data
// into the page. reconcile/html.py inlines it, allowed by its hash in the page's CSP.
(function () {
  "use strict";
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var fmt = new Intl.NumberFormat("en-US");

  function bodyRows(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }

  function restripe(table) {
    var n = 0;
    bodyRows(table).forEach(function (row) {
      if (!row.hidden) { row.classList.toggle("z", n % 2 === 1); n += 1; }
    });
    return n;
  }

  function recount(table) {
    var shown = restripe(table);
    var out = document.querySelector('output[data-count-for="' + table.id + '"]');
    if (out) {
      var all = table.tBodies[0].rows.length;
      out.textContent = shown === all ? fmt.format(all) + " rows"
        : fmt.format(shown) + " of " + fmt.format(all) + " rows match";
    }
  }

  function asNumber(text) {
    if (text === "") { return NaN; }
    var n = Number(text.replace(/,/g, ""));
    return isFinite(n) ? n : NaN;
  }

  function compare(a, b) {
    if (a === b) { return 0; }
    if (a === "") { return 1; }
    if (b === "") { return -1; }
    var x = asNumber(a), y = asNumber(b);
    if (!isNaN(x) && !isNaN(y)) { return x - y; }
    if (!isNaN(x)) { return -1; }
    if (!isNaN(y)) { return 1; }
    return collator.compare(a, b);
  }

  function sortBy(table, th) {
    var col = Number(th.getAttribute("data-col"));
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    table.querySelectorAll("th[data-col]").forEach(function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var keyed = bodyRows(table).map(function (row, i) {
      var cell = row.cells[col];
      return { row: row, key: cell ? cell.textContent.trim() : "", i: i };
    });
    keyed.sort(function (p, q) {
      if (p.key === "" || q.key === "") { return compare(p.key, q.key) || p.i - q.i; }
      return sign * compare(p.key, q.key) || p.i - q.i;
    });
    var body = table.tBodies[0];
    keyed.forEach(function (k) { body.appendChild(k.row); });
    recount(table);
  }

  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    table.querySelectorAll("th[data-col] button.sort").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(table, button.parentNode); });
    });
  });

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var texts = null;
    input.addEventListener("input", function () {
      if (texts === null) {
        texts = new Map();
        bodyRows(table).forEach(function (row) {
          texts.set(row, row.textContent.toLowerCase());
        });
      }
      var q = input.value.trim().toLowerCase();
      bodyRows(table).forEach(function (row) {
        row.hidden = q !== "" && texts.get(row).indexOf(q) === -1;
      });
      recount(table);
    });
  });
})();
