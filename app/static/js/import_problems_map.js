/* The import report's map: one marker per row (feature) with problems that has a place, from
 * /imports/<id>/problems.geojson with the page's filters; its popup lists the row's problems.
 * Leaflet is the app's own copy; the city's extent is drawn dashed, over the configured base
 * map if there is one. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var element = document.getElementById("problem-map");
  var note = document.getElementById("problem-map-note");
  if (!element || !window.L) { return; }

  function popup(properties) {
    var box = document.createElement("div");
    var head = document.createElement("strong");
    head.textContent = "Row " + properties.row + (properties.record ? " · " + properties.record : "");
    box.appendChild(head);
    var list = document.createElement("ul");
    properties.messages.forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
    box.appendChild(list);
    if (properties.problems > properties.messages.length) {
      var more = document.createElement("p");
      more.textContent = "and " + (properties.problems - properties.messages.length) + " more";
      box.appendChild(more);
    }
    return box;
  }

  fetch(element.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (collection) {
      if (!collection.features.length) {
        element.hidden = true;
        note.textContent = "None of these problems has a place on the map.";
        return;
      }
      var map = L.map(element, { scrollWheelZoom: false });
      if (element.dataset.basemap) {
        L.tileLayer(element.dataset.basemap, {
          attribution: element.dataset.attribution, maxZoom: 19
        }).addTo(map);
      }
      if (element.dataset.extent) {
        var e = JSON.parse(element.dataset.extent);  // west, south, east, north
        L.rectangle([[e[1], e[0]], [e[3], e[2]]], {
          color: "#555", weight: 1, dashArray: "4 4", fill: false, interactive: false
        }).bindTooltip("the city's extent").addTo(map);
      }
      var layer = L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {
            radius: 6, color: "#7a0000", weight: 1, fillColor: "#D55E00", fillOpacity: 0.8,
            className: "problem-marker"
          });
        },
        onEachFeature: function (feature, marker) { marker.bindPopup(popup(feature.properties)); }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16 });
      var rows = collection.features.length;
      note.textContent = collection.located.toLocaleString() + " of these problems have a place: " +
        rows.toLocaleString() + (rows === 1 ? " row" : " rows") + " on the map.";
    })
    .catch(function (error) {
      element.hidden = true;
      note.textContent = "The map could not be loaded (" + error.message + ").";
    });
});
