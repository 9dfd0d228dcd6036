/* "Leased parcels": an optional overlay on the portfolio map for signed-in users, one point per
 * leased parcel from /api/leases?format=geojson (points made by PostGIS), with its leases in a
 * popup. Loaded only for signed-in users: lease data is never public. */
(function () {
  "use strict";

  function popupHtml(properties, leasePageUrl) {
    var esc = window.RegistryMap.escapeHtml;
    var items = properties.leases.map(function (lease) {
      var url = leasePageUrl.replace("{lease_number}", encodeURIComponent(lease.lease_number));
      return '<li><a href="' + esc(url) + '">' + esc(lease.lease_number) + "</a> " +
        (lease.direction === "in" ? "city is tenant" : "city is landlord") + " · " +
        esc(lease.counterparty) + " · ends " + esc(lease.end_date) + "</li>";
    }).join("");
    return '<div class="lease-popup"><strong>' + esc(properties.parcel_id) + "</strong> " +
      esc(properties.address || "") + "<ul>" + items + "</ul></div>";
  }

  document.addEventListener("registry:map-ready", function (event) {
    var map = event.detail.map, options = event.detail.options;
    if (!options.leasesUrl) { return; }
    var overlay = L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        var inbound = feature.properties.leases.some(function (l) { return l.direction === "in"; });
        return L.circleMarker(latlng, {
          radius: 6, weight: 2, color: "#000", fillOpacity: 0.9,
          fillColor: inbound ? "#D55E00" : "#56B4E9", className: "leased-parcel"
        });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popupHtml(feature.properties, options.leasePageUrl), { maxWidth: 360 });
      }
    });
    fetch(options.leasesUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { overlay.addData(data); } });
    window.RegistryMap.leases = overlay;
    // the portfolio map's layer switcher (map_tools.js) lists it with its legend; elsewhere its own
    if (!options.filterFields) {
      L.control.layers(null, { "Leased parcels": overlay }, { collapsed: false }).addTo(map);
    }
  });
})();
