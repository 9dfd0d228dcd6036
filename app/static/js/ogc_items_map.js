/* The /ogc HTML pages' small map: the features of the page (or the one feature), fetched as
 * GeoJSON from the page's own JSON link, over the configured base map if there is one.
 * Leaflet is the app's own copy. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var element = document.getElementById("ogc-map");
  if (!element || !window.L) { return; }
  element.style.height = "320px";
  fetch(element.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var map = L.map(element, { scrollWheelZoom: false });
      if (element.dataset.basemap) {
        L.tileLayer(element.dataset.basemap, {
          attribution: element.dataset.attribution, maxZoom: 19
        }).addTo(map);
      }
      var layer = L.geoJSON(data, {
        style: { color: "#0072B2", weight: 1, fillOpacity: 0.3 },
        onEachFeature: function (feature, shape) { shape.bindTooltip(String(feature.id)); }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 17 }); } else { element.hidden = true; }
    })
    .catch(function () { element.hidden = true; });
});
