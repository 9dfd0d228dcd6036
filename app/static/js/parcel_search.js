/* Find a parcel by id or address: the server answers (GET /api/parcels?q=), the map zooms to it.
 * An ARIA 1.2 combobox: the input owns a listbox of options; arrows move the active option
 * (aria-activedescendant), Enter chooses, Esc closes; how many were found is announced. */
(function () {
  "use strict";

  document.addEventListener("registry:map-ready", function (ready) {
    var map = ready.detail.map, options = ready.detail.options;
    var input = document.getElementById("parcel-search-input");
    var list = document.getElementById("parcel-search-results");
    if (!input || !list) { return; }
    if (input.form) {
      input.form.addEventListener("submit", function (event) { event.preventDefault(); });
    }
    var timer = null, features = [], active = -1;
    var count = document.getElementById("parcel-search-count");

    function show(open) {
      list.hidden = !open;
      input.setAttribute("aria-expanded", String(open));
      if (!open) { input.removeAttribute("aria-activedescendant"); }
    }

    function render() {
      list.innerHTML = "";
      if (!features.length) {
        list.innerHTML = '<li class="empty" role="option" aria-disabled="true">No parcel matches</li>';
      }
      features.forEach(function (feature, index) {
        var item = document.createElement("li");
        item.className = "search-result" + (index === active ? " active" : "");
        item.id = "parcel-search-option-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(index === active));
        item.dataset.parcelId = feature.id;
        item.textContent = feature.id + " — " + (feature.properties.address || "no address");
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(feature); });
        list.appendChild(item);
      });
      if (active >= 0) { input.setAttribute("aria-activedescendant", "parcel-search-option-" + active); }
      if (count) {
        count.textContent = features.length ? features.length + " parcels found" : "No parcel matches";
      }
      show(true);
    }

    function search(query) {
      var url = options.searchUrl + "?limit=8&q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) { return response.ok ? response.json() : { features: [] }; })
        .then(function (collection) {
          if (input.value.trim() !== query) { return; } // a newer search is under way
          features = collection.features; active = features.length ? 0 : -1; render();
        });
    }

    function choose(feature) {
      show(false);
      input.value = feature.id;
      if (feature.geometry) {
        var bounds = L.geoJSON(feature.geometry).getBounds();
        // keep clear of the editor's side panel, where there is one
        var right = document.getElementById("parcel-panel") && window.innerWidth > 700 ? 400 : 40;
        map.fitBounds(bounds, { maxZoom: 18, paddingTopLeft: [40, 60], paddingBottomRight: [right, 40] });
        RegistryMap.select(feature.properties, bounds.getCenter()); // announces the selection
      } else {
        RegistryMap.announce("registry:parcel-selected", { parcelId: feature.id });
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < 2) { show(false); return; }
      timer = setTimeout(function () { search(query); }, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !features.length) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        active = (active + (event.key === "ArrowDown" ? 1 : features.length - 1)) % features.length;
        render(); event.preventDefault();
      } else if (event.key === "Enter") {
        choose(features[Math.max(active, 0)]); event.preventDefault();
      } else if (event.key === "Escape") {
        show(false);
        event.stopPropagation();
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { show(false); }, 150); });
  });
})();
