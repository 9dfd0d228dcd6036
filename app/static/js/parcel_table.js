// The parcel table's selection: check boxes on rows, kept across pages (sessionStorage) so a
// selection can span pages; it feeds "show the selection", the exports and the bulk edit form.
// A selection made on the map arrives as ?ids=… and is taken as the selection too.
(function () {
  "use strict";
  var KEY = "parcel-table-selection";
  var table = document.getElementById("parcel-table");
  var maxIds = table ? parseInt(table.getAttribute("data-max-ids"), 10) || 500 : 500;

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(ids) { sessionStorage.setItem(KEY, JSON.stringify(ids)); }

  var selected = load();
  var fromUrl = new URLSearchParams(window.location.search).get("ids");
  if (fromUrl) {
    fromUrl.split(",").forEach(function (id) {
      id = id.trim();
      if (id && selected.indexOf(id) < 0) { selected.push(id); }
    });
    selected = selected.slice(0, maxIds);
    save(selected);
  }

  function render() {
    var status = document.getElementById("selection-status");
    var n = selected.length;
    if (status) {
      status.textContent = n === 0 ? "No parcel selected." :
        n + " parcel" + (n === 1 ? "" : "s") + " selected" + (n >= maxIds ? " (the most a selection holds)." : ".");
    }
    document.querySelectorAll("input.pick").forEach(function (box) {
      box.checked = selected.indexOf(box.value) >= 0;
      box.closest("tr").classList.toggle("selected", box.checked);
    });
    var ids = selected.join(",");
    var bulkIds = document.getElementById("bulk-ids");
    if (bulkIds) { bulkIds.value = ids; }
    var show = document.getElementById("show-selection");
    if (show) {
      show.hidden = n === 0;
      show.href = show.href.split("?")[0] + "?ids=" + encodeURIComponent(ids);
    }
    document.querySelectorAll("a.export").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      if (!link.dataset.filterHref) { link.dataset.filterHref = url.href; }
      if (n > 0) {
        var chosen = new URL(link.href, window.location.href);
        chosen.search = "?ids=" + encodeURIComponent(ids);
        link.href = chosen.href;
        link.textContent = link.dataset.format.toUpperCase() + " (selection)";
      } else {
        link.href = link.dataset.filterHref;
        link.textContent = link.dataset.format.toUpperCase();
      }
    });
    var preview = document.getElementById("bulk-preview");
    if (preview) { preview.disabled = n === 0; }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("pick")) { return; }
    var at = selected.indexOf(box.value);
    if (box.checked && at < 0 && selected.length < maxIds) { selected.push(box.value); }
    if (!box.checked && at >= 0) { selected.splice(at, 1); }
    save(selected);
    render();
  });
  var all = document.getElementById("select-page");
  if (all) {
    all.addEventListener("click", function () {
      document.querySelectorAll("input.pick").forEach(function (box) {
        if (selected.indexOf(box.value) < 0 && selected.length < maxIds) { selected.push(box.value); }
      });
      save(selected);
      render();
    });
  }
  var clear = document.getElementById("clear-selection");
  if (clear) {
    clear.addEventListener("click", function () {
      selected = [];
      save(selected);
      render();
    });
  }
  render();
})();
