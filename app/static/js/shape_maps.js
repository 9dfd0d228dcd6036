/* Small maps of a parcel's shape (and, in its history, the shape before a change). */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll(".shape-map").forEach(function (element) {
    var map = L.map(element, { attributionControl: false, zoomControl: false, scrollWheelZoom: false });
    var layers = [];
    var before = element.dataset.before && JSON.parse(element.dataset.before);
    var after = element.dataset.after && JSON.parse(element.dataset.after);
    if (before) {
      layers.push(L.geoJSON(before, { style: { color: "#777", dashArray: "4 4", weight: 2, fillOpacity: 0.05 } }));
    }
    if (after) {
      layers.push(L.geoJSON(after, { style: { color: "#0072B2", weight: 2, fillOpacity: 0.2 } }));
    }
    var group = L.featureGroup(layers).addTo(map);
    map.fitBounds(group.getBounds(), { padding: [15, 15] });
  });
});
