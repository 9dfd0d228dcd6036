/* The parcel layer of the registry's map: vector tiles from /tiles, coloured by status, with a
 * popup and a legend. Kept apart from the Python that writes the page so it can be read and
 * cached on its own. Exposes window.RegistryMap for the page and the editing bridge. */
(function () {
  "use strict";

  function escapeHtml(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function popupHtml(properties, options, labels) {
    var url = options.parcelPageUrl.replace("{parcel_id}", encodeURIComponent(properties.parcel_id));
    var rows = [
      ["Parcel", properties.parcel_id],
      ["Address", properties.address],
      ["Department", properties.department],
      ["Use", properties.use],
      ["Status", labels[properties.status] || properties.status]
    ].map(function (row) {
      return "<tr><th>" + escapeHtml(row[0]) + "</th><td>" + escapeHtml(row[1]) + "</td></tr>";
    }).join("");
    return '<div class="parcel-popup" data-parcel-id="' + escapeHtml(properties.parcel_id) + '">' +
      "<table>" + rows + "</table>" +
      '<a class="parcel-link" href="' + escapeHtml(url) + '">Open parcel record</a></div>';
  }

  function addLegend(map, statuses) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "registry-legend");
      div.innerHTML = "<strong>Parcel status</strong>" + statuses.map(function (s) {
        return '<div><span class="swatch" style="background:' + escapeHtml(s.colour) + '"></span>' +
          escapeHtml(s.label) + "</div>";
      }).join("");
      return div;
    };
    legend.addTo(map);
    return legend;
  }

  /* The parcel filter's query parameters (registry.parcels.filters.PARAMETERS): the page's URL
   * holds them, and the tile URL carries the same ones so the tiles show what the filter does. */
  var FILTER_PARAMETERS = ["q", "department", "district", "status", "use", "asset_type",
    "digitization", "verified", "area_min", "area_max", "ids"];

  function filterParams(search) {
    var from = new URLSearchParams(search === undefined ? window.location.search : search);
    var params = new URLSearchParams();
    FILTER_PARAMETERS.forEach(function (name) {
      var value = (from.get(name) || "").trim();
      if (value) { params.set(name, value); }
    });
    return params;
  }

  function filteredTileUrl(options, params) {
    var query = params.toString();
    return options.tileUrl + (query ? "?" + query : "");
  }

  /* `map=zoom/lat/lon` in the page's URL, as OpenStreetMap writes it; null when absent or bad. */
  function viewFromUrl() {
    var raw = new URLSearchParams(window.location.search).get("map") || "";
    var parts = raw.split("/").map(Number);
    if (parts.length !== 3 || parts.some(function (n) { return !isFinite(n); })) { return null; }
    if (Math.abs(parts[1]) > 90 || Math.abs(parts[2]) > 180) { return null; }
    return { zoom: Math.max(0, Math.min(22, parts[0])), center: L.latLng(parts[1], parts[2]) };
  }

  var SELECTED_STYLE = {
    weight: 4, color: "#111", opacity: 1, fill: true, fillColor: "#ffd400", fillOpacity: 0.35
  };

  /* The drawn pieces of one parcel (a parcel crossing tiles is one path per tile). */
  function parcelPaths(parcelId) {
    var layer = RegistryMap.parcels, paths = [];
    if (!layer || !layer._vectorTiles) { return paths; }
    Object.keys(layer._vectorTiles).forEach(function (key) {
      var found = layer._vectorTiles[key]._features[parcelId];
      if (found && found.feature._path) { paths.push(found.feature._path); }
    });
    return paths;
  }

  function markSelectedPaths() {
    document.querySelectorAll("path.parcel-selected").forEach(function (path) {
      L.DomUtil.removeClass(path, "parcel-selected");
    });
    if (!RegistryMap.selected) { return; }
    parcelPaths(RegistryMap.selected).forEach(function (path) {
      L.DomUtil.addClass(path, "parcel-selected");
    });
  }

  /* The selected parcel's box on screen (container pixels), or null when none of it is drawn. */
  function selectedBox(map) {
    var origin = map.getContainer().getBoundingClientRect(), box = null;
    parcelPaths(RegistryMap.selected).forEach(function (path) {
      var r = path.getBoundingClientRect();
      var b = L.bounds([r.left - origin.left, r.top - origin.top],
        [r.right - origin.left, r.bottom - origin.top]);
      box = box ? box.extend(b.min).extend(b.max) : b;
    });
    return box;
  }

  /* Open the popup beside the parcel, not over it: anchored at the middle of the parcel's right
   * edge (its left edge when there is no room on the right) and shifted by its own size. */
  function placeBeside(map, popup, box) {
    var container = popup.getElement();
    if (!container || !box) { return; }
    var width = container.offsetWidth, height = container.offsetHeight, gap = 14;
    var size = map.getSize(), middle = (box.min.y + box.max.y) / 2;
    var right = box.max.x + gap + width <= size.x || box.min.x - gap - width < 0;
    var anchor = L.point(right ? box.max.x : box.min.x, middle);
    popup.options.offset = L.point(right ? width / 2 + gap : -(width / 2 + gap), height / 2);
    L.DomUtil.addClass(container, "popup-beside");
    popup.setLatLng(map.containerPointToLatLng(anchor));
  }

  function parcelLayer(map, options) {
    var failure = document.getElementById("map-script-failure");
    if (failure) { failure.hidden = true; }
    var colours = {}, labels = {};
    options.statuses.forEach(function (s) { colours[s.value] = s.colour; labels[s.value] = s.label; });
    var view = viewFromUrl();
    if (view) {
      map.setView(view.center, view.zoom, { animate: false });
    } else if (options.bounds) {
      map.fitBounds(options.bounds, { animate: false });
    }
    // the map's own floor (after the view: from Folium's zoom 1 it would animate a zoom to it);
    // without it Leaflet takes the parcel layer's minZoom as the map's
    if (options.mapMinZoom !== undefined) { map.setMinZoom(options.mapMinZoom); }
    var layer = L.vectorGrid.protobuf(filteredTileUrl(options, filterParams()), {
      // SVG, not canvas: VectorGrid 1.3's canvas click handler calls an API Leaflet 1.9 removed.
      rendererFactory: L.svg.tile,
      interactive: true,
      // a tile the server refuses to an anonymous visitor (a staff-only filter) is a redirect to
      // the sign-in page: not followed, it is an empty tile instead of HTML read as a tile
      fetchOptions: { credentials: "same-origin", redirect: "manual" },
      minZoom: options.minZoom,
      maxZoom: 22,
      getFeatureId: function (feature) { return feature.properties.parcel_id; },
      vectorTileLayerStyles: {
        parcels: function (properties) {
          var colour = colours[properties.status] || "#444";
          return {
            className: "parcel parcel-status-" + properties.status,
            weight: 1, color: colour, opacity: 0.9,
            fill: true, fillColor: colour, fillOpacity: 0.45
          };
        }
      }
    });
    function openPopup(properties, latlng) {
      if (options.editing) { return null; } // editors get the side panel, which shows it all
      var popup = L.popup({ maxWidth: 320, autoPan: true, autoPanPadding: L.point(20, 20) })
        .setLatLng(latlng)
        .setContent(popupHtml(properties, options, labels))
        .openOn(map);
      if (RegistryMap.selected === properties.parcel_id) {
        var box = selectedBox(map);
        if (box) {
          placeBeside(map, popup, box);
        } else { // its tiles are still on their way (a search result, a shared URL)
          layer.once("load", function () {
            markSelectedPaths();
            if (popup.isOpen()) { placeBeside(map, popup, selectedBox(map)); }
          });
        }
      }
      return popup;
    }
    /* Select a parcel: outline it and open its popup beside it. `properties` are the tile's (or
     * the API's) public attributes. */
    function select(properties, latlng) {
      if (RegistryMap.selected && RegistryMap.selected !== properties.parcel_id) {
        layer.resetFeatureStyle(RegistryMap.selected);
      }
      RegistryMap.selected = properties.parcel_id;
      layer.setFeatureStyle(properties.parcel_id, SELECTED_STYLE);
      markSelectedPaths();
      openPopup(properties, latlng);
      announce("registry:parcel-selected", { parcelId: properties.parcel_id });
    }
    function clearSelection() {
      if (!RegistryMap.selected) { return; }
      layer.resetFeatureStyle(RegistryMap.selected);
      RegistryMap.selected = null;
      markSelectedPaths();
      announce("registry:selection-cleared", {});
    }
    layer.on("click", function (event) {
      if (map.pm && (map.pm.globalDrawModeEnabled() || map.pm.globalCutModeEnabled())) {
        return; // a click while drawing places a vertex, it does not pick a parcel
      }
      if (RegistryMap.toolActive) { return; } // measuring or drawing a selection box
      select(event.layer.properties, event.latlng);
    });
    map.on("popupclose", function (event) {
      if (event.popup.getElement() && L.DomUtil.hasClass(event.popup.getElement(), "popup-beside")) {
        clearSelection();
      }
    });
    layer.on("load", markSelectedPaths);
    layer.addTo(map);
    addLegend(map, options.statuses);
    RegistryMap.map = map;
    RegistryMap.parcels = layer;
    RegistryMap.options = options;
    RegistryMap.openPopup = openPopup;
    RegistryMap.select = select;
    RegistryMap.clearSelection = clearSelection;
    RegistryMap.labels = labels;
    // Other modules (search, the editor) start from here; they were loaded before the map.
    announce("registry:map-ready", { map: map, layer: layer, options: options });
    return layer;
  }

  function announce(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  /* Re-fetch the parcel tiles (revalidated by ETag, so unchanged ones cost a 304). */
  function refreshParcels() {
    if (RegistryMap.parcels) { RegistryMap.parcels.redraw(); }
  }

  window.RegistryMap = {
    parcelLayer: parcelLayer, escapeHtml: escapeHtml, announce: announce,
    refreshParcels: refreshParcels, filterParams: filterParams, filteredTileUrl: filteredTileUrl,
    FILTER_PARAMETERS: FILTER_PARAMETERS, selected: null, toolActive: null
  };
})();
