/* Find a parcel by id or address: the server answers (GET /api/parcels?q=), the map zooms to it. */
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

    function render() {
      list.innerHTML = "";
      if (!features.length) {
        list.innerHTML = '<li class="empty">No parcel matches</li>';
      }
      features.forEach(function (feature, index) {
        var item = document.createElement("li");
        item.className = "search-result" + (index === active ? " active" : "");
        item.dataset.parcelId = feature.id;
        item.textContent = feature.id + " — " + (feature.properties.address || "no address");
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(feature); });
        list.appendChild(item);
      });
      list.hidden = false;
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
      list.hidden = true;
      input.value = feature.id;
      if (feature.geometry) {
        var bounds = L.geoJSON(feature.geometry).getBounds();
        // keep clear of the editor's side panel, where there is one
        var right = document.getElementById("parcel-panel") ? 400 : 40;
        map.fitBounds(bounds, { maxZoom: 18, paddingTopLeft: [40, 60], paddingBottomRight: [right, 40] });
        RegistryMap.openPopup(feature.properties, bounds.getCenter());
      }
      RegistryMap.announce("registry:parcel-selected", { parcelId: feature.id });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < 2) { list.hidden = true; return; }
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
        list.hidden = true;
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
  });
})();
