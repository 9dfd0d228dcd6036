/* The open-data page's map: the registry's parcel layer (parcel_map.js) drawing the tiles of the
 * page's filter, so it shows the parcels the table lists; a click opens the public parcel page. */
(function () {
  "use strict";

  function start() {
    var element = document.getElementById("open-map");
    if (!element || !window.L || !window.RegistryMap) { return; }
    var options = JSON.parse(element.dataset.options);
    var map = L.map(element, { scrollWheelZoom: false, keyboard: true });
    if (options.basemapUrl) {
      L.tileLayer(options.basemapUrl, { attribution: options.basemapAttribution, maxZoom: 19 })
        .addTo(map);
    }
    map.fitBounds(options.bounds, { padding: [12, 12], maxZoom: 18 });
    if (map.getZoom() < options.minZoom) { map.setZoom(options.minZoom); }
    var layer = RegistryMap.parcelLayer(map, options);
    // "loaded" once every tile in view is drawn (the table and the map can then be compared)
    element.dataset.tiles = "loading";
    layer.on("loading", function () { element.dataset.tiles = "loading"; });
    layer.on("load", function () { element.dataset.tiles = "loaded"; });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
