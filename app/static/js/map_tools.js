/* The portfolio map's tools: the parcel filter (the table's, applied to the tiles), the layer and
 * base-map switcher with the layers' legend, the page's URL as the map's state (view, filters,
 * layers, selection: a view can be shared or bookmarked), measuring distance and area, drawing a
 * box to select parcels for the table, and printing the view. Starts on "registry:map-ready". */
(function () {
  "use strict";

  var MAX_BOX_SELECTION = 500; // registry.parcels.filters.MAX_IDS
  var BUILDINGS_MIN_ZOOM = 15; // footprints are read by view, so only where they can be seen
  var esc = function (value) { return window.RegistryMap.escapeHtml(value); };

  function control(position, className, html) {
    var made = L.control({ position: position });
    made.onAdd = function () {
      var div = L.DomUtil.create("div", className + " map-tool");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return made;
  }

  /* ---- the page's URL ---------------------------------------------------------------- */

  function writeUrl(map, state) {
    var params = window.RegistryMap.filterParams(state.filterQuery);
    var centre = map.getCenter(), zoom = map.getZoom();
    params.set("map", zoom + "/" + centre.lat.toFixed(5) + "/" + centre.lng.toFixed(5));
    params.set("base", state.base);
    params.set("layers", state.layers().join(","));
    if (window.RegistryMap.selected) { params.set("parcel", window.RegistryMap.selected); }
    var edit = new URLSearchParams(window.location.search).get("edit");
    if (edit) { params.set("edit", edit); }
    history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  /* ---- layers ------------------------------------------------------------------------ */

  function districtsLayers(map, options) {
    // the light base lies under the tiles (tilePane is at z-index 200), not over the parcels
    map.createPane("registryBase").style.zIndex = 150;
    var base = L.geoJSON(null, {
      interactive: false,
      pane: "registryBase",
      style: { color: "#8a8f96", weight: 1, fillColor: "#eef0f2", fillOpacity: 1, className: "district-base" }
    });
    var overlay = L.geoJSON(null, {
      style: { color: "#5b2a86", weight: 2, dashArray: "6 4", fill: false, className: "district-outline" },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip("District " + esc(feature.properties.council_district), { sticky: true });
      }
    });
    var loaded = null;
    function load() {
      if (!loaded) {
        loaded = fetch(options.districtsUrl, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) { if (data) { base.addData(data); overlay.addData(data); } });
      }
      return loaded;
    }
    base.on("add", load);
    overlay.on("add", load);
    return { base: base, overlay: overlay };
  }

  function buildingsLayer(map, options) {
    var layer = L.geoJSON(null, {
      style: { color: "#333", weight: 1, fillColor: "#9a9a9a", fillOpacity: 0.7, className: "building" },
      onEachFeature: function (feature, shape) {
        var p = feature.properties;
        shape.bindTooltip(esc(p.name || p.building_id) + " · parcel " + esc(p.parcel_id));
      }
    });
    var request = 0;
    function refresh() {
      if (!map.hasLayer(layer)) { return; }
      if (map.getZoom() < BUILDINGS_MIN_ZOOM) { layer.clearLayers(); return; }
      var b = map.getBounds(), mine = ++request;
      var url = options.buildingsUrl + "?f=json&limit=2000&bbox=" +
        [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(6); }).join(",");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && mine === request) { layer.clearLayers(); layer.addData(data); }
        });
    }
    layer.on("add", refresh);
    map.on("moveend", refresh);
    return layer;
  }

  function basemaps(options, districts) {
    var layers = {}, labels = {};
    options.basemaps.forEach(function (choice) {
      var layer;
      if (choice.url) {
        layer = L.tileLayer(choice.url, { attribution: choice.attribution, maxZoom: 19 });
      } else if (choice.id === "local") {
        layer = districts.base;
      } else {
        layer = L.layerGroup();
      }
      layers[choice.id] = layer;
      labels[choice.id] = choice.label;
    });
    return { layers: layers, labels: labels };
  }

  function layerLegend(map, overlays) {
    var legend = document.querySelector(".registry-legend");
    if (!legend) { return; }
    var extra = L.DomUtil.create("div", "layer-legend", legend);
    function draw() {
      var html = "";
      if (overlays.leases && map.hasLayer(overlays.leases)) {
        html += '<strong>Leased parcels</strong>' +
          '<div><span class="dot lease-in"></span>City is tenant</div>' +
          '<div><span class="dot lease-out"></span>City is landlord</div>';
      }
      if (map.hasLayer(overlays.buildings)) {
        html += '<div><span class="swatch building-swatch"></span>Building (zoom in to see)</div>';
      }
      if (map.hasLayer(overlays.districts)) {
        html += '<div><span class="swatch district-swatch"></span>Council district</div>';
      }
      extra.innerHTML = html;
    }
    map.on("overlayadd overlayremove", draw);
    draw();
  }

  /* ---- the filter -------------------------------------------------------------------- */

  function filterField(field, value) {
    var id = "map-filter-" + field.name, input;
    if (field.choices) {
      input = '<select id="' + id + '" name="' + field.name + '"><option value="">Any</option>' +
        field.choices.map(function (choice) {
          var selected = String(choice[0]) === value ? " selected" : "";
          return '<option value="' + esc(choice[0]) + '"' + selected + ">" + esc(choice[1]) + "</option>";
        }).join("") + "</select>";
    } else {
      input = '<input id="' + id + '" name="' + field.name + '" type="' + (field.type || "text") +
        '" value="' + esc(value) + '"' + (field.type === "number" ? ' min="0" step="any"' : "") +
        ' maxlength="100">';
    }
    return '<div class="field"><label for="' + id + '">' + esc(field.label) + "</label>" + input + "</div>";
  }

  function filterControl(map, options, state) {
    var current = window.RegistryMap.filterParams();
    var html = '<details class="map-filter"' + (current.toString() ? " open" : "") + '>' +
      '<summary>Filter parcels <span class="filter-count"></span></summary>' +
      '<form class="map-filter-form" novalidate>' +
      options.filterFields.map(function (field) { return filterField(field, current.get(field.name) || ""); }).join("") +
      '<div class="actions"><button type="submit">Apply</button>' +
      '<button type="button" class="filter-clear">Clear</button></div>' +
      '<a class="filter-table-link" href="#">Show these parcels in the table</a>' +
      '<p class="filter-error" role="alert" hidden></p>' +
      '</form></details>';
    control("topleft", "map-filter-control", html).addTo(map);
    var form = document.querySelector(".map-filter-form");
    function show(params) {
      var count = Array.from(params.keys()).length;
      document.querySelector(".filter-count").textContent = count ? "(" + count + " on)" : "";
      form.querySelector(".filter-table-link").href = options.tableUrl + (count ? "?" + params.toString() : "");
      document.getElementById("print-filters").textContent = count ? describe(params) : "All parcels";
    }
    function describe(params) {
      var labels = {};
      options.filterFields.forEach(function (field) { labels[field.name] = field.label; });
      return "Filter: " + Array.from(params.entries()).map(function (pair) {
        return (labels[pair[0]] || pair[0]) + " " + pair[1];
      }).join("; ");
    }
    /* Say when the tiles refuse the filter (a value out of range, a field the public may not
     * use) instead of showing an empty map: the tile answers in the filter's words. */
    function check(params) {
      var error = form.querySelector(".filter-error");
      error.hidden = true;
      var offered = {};
      options.filterFields.forEach(function (field) { offered[field.name] = field; });
      var problems = [];
      params.forEach(function (value, name) {
        var field = offered[name];
        if (!field) {
          if (name !== "ids") { problems.push("Sign in to filter by " + name.replace("_", " ") + "."); }
        } else if (field.choices && !field.choices.some(function (c) { return String(c[0]).toLowerCase() === value.toLowerCase(); })) {
          problems.push(field.label + " has no choice “" + value + "”.");
        }
      });
      if (problems.length) {
        error.textContent = problems.join(" ");
        error.hidden = false;
        document.querySelector(".map-filter").open = true;
        return;
      }
      if (!params.toString()) { return; }
      var probe = window.RegistryMap.filteredTileUrl(options, params)
        .replace("{z}", "24").replace("{x}", "0").replace("{y}", "0");
      fetch(probe, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
        if (response.ok || response.status === 304) { return; }
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          error.textContent = "Sign in to filter by these fields.";
        } else {
          return response.text().then(function (body) {
            var parsed = new DOMParser().parseFromString(body, "text/html").querySelector("p");
            error.textContent = "The map cannot use this filter: " +
              (parsed ? parsed.textContent : "the server refused it");
            error.hidden = false;
            document.querySelector(".map-filter").open = true;
          });
        }
        error.hidden = false;
        document.querySelector(".map-filter").open = true;
      });
    }
    function apply(params) {
      check(params);
      state.filterQuery = params.toString();
      window.RegistryMap.parcels.setUrl(window.RegistryMap.filteredTileUrl(options, params));
      show(params);
      writeUrl(map, state);
      window.RegistryMap.announce("registry:filter-changed", { params: params });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (String(value).trim()) { params.set(name, String(value).trim()); }
      });
      apply(window.RegistryMap.filterParams("?" + params.toString()));
    });
    form.querySelector(".filter-clear").addEventListener("click", function () {
      form.reset();
      form.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      form.querySelectorAll("select").forEach(function (select) { select.value = ""; });
      apply(new URLSearchParams());
    });
    show(current);
    check(current);
  }

  /* ---- measuring --------------------------------------------------------------------- */


  /* The area of a polygon on the sphere (the formula of Chamberlain & Duquette, as Leaflet.draw's
   * geodesicArea), in square metres. */
  function geodesicArea(latlngs) {
    var area = 0, n = latlngs.length, rad = Math.PI / 180;
    var radius = L.CRS.Earth.R; // the sphere of Leaflet's distanceTo, so lengths and areas agree
    if (n < 3) { return 0; }
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % n];
      area += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs(area * radius * radius / 2);
  }

  function pathLength(latlngs) {
    var total = 0;
    for (var i = 1; i < latlngs.length; i++) { total += latlngs[i - 1].distanceTo(latlngs[i]); }
    return total;
  }

  function formatLength(metres) {
    var feet = metres * 3.280839895;
    return metres >= 1000
      ? (metres / 1000).toFixed(2) + " km (" + (metres / 1609.344).toFixed(2) + " mi)"
      : metres.toFixed(1) + " m (" + Math.round(feet).toLocaleString("en-US") + " ft)";
  }

  function formatArea(squareMetres) {
    var acres = squareMetres / 4046.8564224;
    var metric = squareMetres >= 10000
      ? (squareMetres / 10000).toFixed(2) + " ha"
      : Math.round(squareMetres).toLocaleString("en-US") + " m²";
    return metric + " (" + acres.toFixed(2) + " acres)";
  }

  function measureTool(map) {
    var html = '<button type="button" class="measure-distance" aria-pressed="false">Measure distance</button>' +
      '<button type="button" class="measure-area" aria-pressed="false">Measure area</button>' +
      '<div class="measure-readout" role="status" aria-live="polite"></div>';
    control("topleft", "measure-control", html).addTo(map);
    var readout = document.querySelector(".measure-readout");
    var points = [], shape = null, mode = null, result = null;

    function redraw() {
      if (shape) { map.removeLayer(shape); }
      shape = mode === "area" && points.length > 2
        ? L.polygon(points, { color: "#c2185b", weight: 2, dashArray: "4 4", interactive: false, className: "measure-shape" })
        : L.polyline(points, { color: "#c2185b", weight: 2, dashArray: "4 4", interactive: false, className: "measure-shape" });
      shape.addTo(map);
      if (mode === "distance") {
        result = pathLength(points);
        readout.textContent = points.length < 2 ? "Click the first point, then the next; double-click or Enter ends, Esc cancels."
          : "Distance: " + formatLength(result);
      } else {
        result = geodesicArea(points);
        readout.textContent = points.length < 3 ? "Click the corners; double-click or Enter ends, Esc cancels."
          : "Area: " + formatArea(result) + " · perimeter " + formatLength(pathLength(points.concat([points[0]])));
      }
      readout.dataset.value = result === null ? "" : String(result);
    }
    function stop(keep) {
      map.off("click", addPoint);
      map.off("dblclick", finish);
      map.doubleClickZoom.enable();
      L.DomUtil.removeClass(map.getContainer(), "measuring");
      document.querySelectorAll(".measure-control button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      if (!keep) {
        if (shape) { map.removeLayer(shape); }
        shape = null;
        readout.textContent = "";
        readout.dataset.value = "";
      }
      mode = null;
      window.RegistryMap.toolActive = null;
    }
    function addPoint(event) { points.push(event.latlng); redraw(); }
    function finish() { if (mode) { stop(true); } }
    function start(which, button) {
      window.RegistryMap.cancelTools();
      mode = which;
      points = [];
      window.RegistryMap.toolActive = "measure";
      map.closePopup();
      map.doubleClickZoom.disable();
      map.on("click", addPoint);
      map.on("dblclick", finish);
      L.DomUtil.addClass(map.getContainer(), "measuring");
      button.setAttribute("aria-pressed", "true");
      redraw();
    }
    document.querySelector(".measure-distance").addEventListener("click", function (event) {
      start("distance", event.currentTarget);
    });
    document.querySelector(".measure-area").addEventListener("click", function (event) {
      start("area", event.currentTarget);
    });
    document.addEventListener("keydown", function (event) {
      if (!mode) { return; }
      if (event.key === "Escape") { stop(false); }
      if (event.key === "Enter") { finish(); }
    });
    return { cancel: function () { if (mode) { stop(false); } } };
  }

  /* ---- selecting by box -------------------------------------------------------------- */

  function boxSelectTool(map, options, state) {
    var html = '<button type="button" class="box-select" aria-pressed="false">Select by box</button>' +
      '<div class="box-select-result" role="status" aria-live="polite"></div>';
    control("topleft", "box-select-control", html).addTo(map);
    var button = document.querySelector(".box-select");
    var result = document.querySelector(".box-select-result");
    var active = false, corner = null, rectangle = null, chosen = [];

    function unmark() {
      chosen.forEach(function (id) {
        if (id !== window.RegistryMap.selected) { window.RegistryMap.parcels.resetFeatureStyle(id); }
      });
      chosen = [];
    }
    function stop() {
      active = false;
      corner = null;
      map.dragging.enable();
      map.off("mousedown", down);
      map.off("mousemove", move);
      map.off("mouseup", up);
      L.DomUtil.removeClass(map.getContainer(), "box-selecting");
      button.setAttribute("aria-pressed", "false");
      if (window.RegistryMap.toolActive === "box") { window.RegistryMap.toolActive = null; }
    }
    function down(event) { corner = event.latlng; }
    function move(event) {
      if (!corner) { return; }
      var bounds = L.latLngBounds(corner, event.latlng);
      if (rectangle) { rectangle.setBounds(bounds); } else {
        rectangle = L.rectangle(bounds, { color: "#0b5cad", weight: 2, dashArray: "5 3", fillOpacity: 0.08, interactive: false, className: "selection-box" }).addTo(map);
      }
    }
    function up(event) {
      if (!corner) { return; }
      var bounds = L.latLngBounds(corner, event.latlng);
      stop();
      choose(bounds);
    }
    function choose(bounds) {
      var params = window.RegistryMap.filterParams(state.filterQuery);
      var query = new URLSearchParams();
      ["q", "status", "department"].forEach(function (name) { if (params.get(name)) { query.set(name, params.get(name)); } });
      query.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map(function (n) { return n.toFixed(6); }).join(","));
      query.set("limit", String(MAX_BOX_SELECTION));
      result.textContent = "Finding the parcels in the box…";
      fetch(options.searchUrl + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { result.textContent = "The parcels in the box could not be read; try again."; return; }
          unmark();
          chosen = data.features.map(function (feature) { return feature.properties.parcel_id || feature.id; });
          chosen.forEach(function (id) {
            window.RegistryMap.parcels.setFeatureStyle(id, { weight: 3, color: "#0b5cad", opacity: 1, fill: true, fillColor: "#0b5cad", fillOpacity: 0.3 });
          });
          var more = data.links && data.links.some(function (link) { return link.rel === "next"; });
          if (!chosen.length) { result.textContent = "No parcel in the box."; return; }
          result.innerHTML = esc(chosen.length) + (more ? "+" : "") + " parcels selected · " +
            '<a class="box-select-table" href="' + esc(options.tableUrl + "?ids=" + encodeURIComponent(chosen.join(","))) +
            '">Open them in the table</a>' + (more ? " (the first " + MAX_BOX_SELECTION + ")" : "") +
            ' <button type="button" class="box-select-clear">Clear</button>';
          result.querySelector(".box-select-clear").addEventListener("click", function () {
            unmark();
            if (rectangle) { map.removeLayer(rectangle); rectangle = null; }
            result.textContent = "";
          });
        });
    }
    button.addEventListener("click", function () {
      window.RegistryMap.cancelTools();
      active = true;
      window.RegistryMap.toolActive = "box";
      map.closePopup();
      map.dragging.disable();
      map.on("mousedown", down);
      map.on("mousemove", move);
      map.on("mouseup", up);
      L.DomUtil.addClass(map.getContainer(), "box-selecting");
      button.setAttribute("aria-pressed", "true");
      result.textContent = "Drag a box over the parcels; Esc cancels.";
    });
    document.addEventListener("keydown", function (event) {
      if (active && event.key === "Escape") {
        stop();
        if (rectangle) { map.removeLayer(rectangle); rectangle = null; }
        result.textContent = "";
      }
    });
    return { cancel: function () { if (active) { stop(); } } };
  }

  /* ---- print ------------------------------------------------------------------------- */

  function stampDate() {
    var now = new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    document.getElementById("print-date").textContent = "Printed " + now.getFullYear() + "-" +
      pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + " " + pad(now.getHours()) + ":" + pad(now.getMinutes());
  }

  function printTool(map) {
    control("topleft", "print-control", '<button type="button" class="print-map">Print or save as PDF</button>').addTo(map);
    var north = L.control({ position: "bottomleft" });
    north.onAdd = function () {
      var div = L.DomUtil.create("div", "north-arrow");
      div.setAttribute("role", "img");
      div.setAttribute("aria-label", "North is up");
      div.innerHTML = '<svg viewBox="0 0 20 30" width="20" height="30" aria-hidden="true">' +
        '<polygon points="10,2 17,26 10,20 3,26" fill="#222"/></svg><span>N</span>';
      return div;
    };
    north.addTo(map);
    stampDate();
    window.addEventListener("beforeprint", function () { stampDate(); map.invalidateSize(); });
    window.addEventListener("afterprint", function () { map.invalidateSize(); });
    document.querySelector(".print-map").addEventListener("click", function () {
      window.RegistryMap.cancelTools();
      stampDate();
      window.print();
    });
  }

  /* ---- start ------------------------------------------------------------------------- */

  function selectFromUrl(map, options, hasView) {
    var id = new URLSearchParams(window.location.search).get("parcel");
    if (!id) { return; }
    fetch(options.searchUrl + "/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (feature) {
        if (!feature || !feature.geometry) { return; }
        var bounds = L.geoJSON(feature.geometry).getBounds();
        if (!hasView) { map.fitBounds(bounds, { maxZoom: 18, padding: [120, 120] }); }
        var properties = Object.assign({ parcel_id: id }, feature.properties);
        window.RegistryMap.select(properties, bounds.getCenter());
      });
  }

  document.addEventListener("registry:map-ready", function (event) {
    var map = event.detail.map, options = event.detail.options;
    if (!options.filterFields) { return; } // not the portfolio map
    var url = new URLSearchParams(window.location.search);
    var state = { filterQuery: window.RegistryMap.filterParams().toString() };
    var districts = districtsLayers(map, options);
    var overlays = {
      parcels: event.detail.layer,
      buildings: buildingsLayer(map, options),
      leases: window.RegistryMap.leases || null,
      districts: districts.overlay
    };
    var overlayLabels = { parcels: "Parcels", buildings: "Buildings", leases: "Leased parcels", districts: "Council districts" };
    var bases = basemaps(options, districts);
    state.base = bases.layers[url.get("base")] ? url.get("base") : options.basemaps[0].id;
    state.layers = function () {
      return Object.keys(overlays).filter(function (key) { return overlays[key] && map.hasLayer(overlays[key]); });
    };

    bases.layers[state.base].addTo(map);
    if (bases.layers[state.base].bringToBack) { bases.layers[state.base].bringToBack(); }
    var wanted = url.get("layers") ? url.get("layers").split(",") : ["parcels"];
    Object.keys(overlays).forEach(function (key) {
      if (!overlays[key]) { return; }
      var on = wanted.indexOf(key) >= 0;
      if (on && !map.hasLayer(overlays[key])) { overlays[key].addTo(map); }
      if (!on && map.hasLayer(overlays[key])) { map.removeLayer(overlays[key]); }
    });

    var baseEntries = {}, overlayEntries = {};
    options.basemaps.forEach(function (choice) { baseEntries[esc(choice.label)] = bases.layers[choice.id]; });
    Object.keys(overlays).forEach(function (key) {
      if (overlays[key]) { overlayEntries[overlayLabels[key]] = overlays[key]; }
    });
    L.control.layers(baseEntries, overlayEntries, { collapsed: false, position: "topright" }).addTo(map);
    map.on("baselayerchange", function (change) {
      Object.keys(bases.layers).forEach(function (id) { if (bases.layers[id] === change.layer) { state.base = id; } });
      if (change.layer.bringToBack) { change.layer.bringToBack(); }
      writeUrl(map, state);
    });
    layerLegend(map, overlays);

    filterControl(map, options, state);
    var tools = [measureTool(map), boxSelectTool(map, options, state)];
    window.RegistryMap.cancelTools = function () { tools.forEach(function (tool) { tool.cancel(); }); };
    printTool(map);

    var update = function () { writeUrl(map, state); };
    map.on("moveend overlayadd overlayremove", update);
    document.addEventListener("registry:parcel-selected", update);
    document.addEventListener("registry:selection-cleared", update);
    selectFromUrl(map, options, url.has("map"));
    update();
    window.RegistryMap.tools = { geodesicArea: geodesicArea, pathLength: pathLength, state: state };
    document.documentElement.dataset.mapTools = "ready";
  });
})();
