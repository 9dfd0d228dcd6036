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

  function parcelLayer(map, options) {
    var colours = {}, labels = {};
    options.statuses.forEach(function (s) { colours[s.value] = s.colour; labels[s.value] = s.label; });
    var layer = L.vectorGrid.protobuf(options.tileUrl, {
      // SVG, not canvas: VectorGrid 1.3's canvas click handler calls an API Leaflet 1.9 removed.
      rendererFactory: L.svg.tile,
      interactive: true,
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
      return L.popup({ maxWidth: 320 })
        .setLatLng(latlng)
        .setContent(popupHtml(properties, options, labels))
        .openOn(map);
    }
    layer.on("click", function (event) {
      if (map.pm && (map.pm.globalDrawModeEnabled() || map.pm.globalCutModeEnabled())) {
        return; // a click while drawing places a vertex, it does not pick a parcel
      }
      openPopup(event.layer.properties, event.latlng);
      announce("registry:parcel-selected", { parcelId: event.layer.properties.parcel_id });
    });
    layer.addTo(map);
    addLegend(map, options.statuses);
    RegistryMap.map = map;
    RegistryMap.parcels = layer;
    RegistryMap.options = options;
    RegistryMap.openPopup = openPopup;
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
    refreshParcels: refreshParcels
  };
})();
