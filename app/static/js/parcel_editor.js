/* The editor's bridge between the map (Leaflet-Geoman) and the parcel API.
 *
 * Select a parcel → its Feature and ETag are fetched, the side panel shows its attributes and its
 * shape becomes editable; Save sends only what changed (PATCH with If-Match, or POST for a new
 * parcel); the server validates, writes and audits, and the tiles are refreshed. A 422 puts each
 * message next to its field (and on the map); a 412 shows who changed the parcel and lets the
 * editor re-apply their own changes on top of the current version: nothing is overwritten unseen.
 * A record without a shape (a paper record) offers *Draw its shape*: the polygon drawn is saved to
 * that record by the same PATCH, and a paper record moves on to digitized with it. `/?edit=<id>`
 * opens the editor on a record (the parcel page links there).
 *
 * Precise editing (issue 12): vertices snap to the neighbouring parcels' corners and edges (the
 * neighbours in view are fetched from GET /api/parcels?bbox=); the area of the shape is read out
 * live (geodesic, as the registry measures it); Undo/Redo (Ctrl+Z, Ctrl+Y) step through the
 * shape's edits; Split… cuts the parcel by a drawn line and Merge… joins it with neighbours
 * (POST /api/parcels/<id>/split, /api/parcels/merge); a gesture the editor refuses (a vertex
 * dragged across an edge, a bow-tie corner) says why on the map (#map-message, role=alert); Esc
 * cancels the drawing or the unsaved shape edit; a save that would revoke a verified parcel's
 * verification asks first. Messages name fields by the form's labels.
 */
(function () {
  "use strict";

  var FIELDS = [
    "parcel_id", "address", "department_code", "council_district", "use", "asset_type",
    "legal_interest", "status", "digitization_status", "acquisition_date", "acquisition_cost",
    "disposition_date", "disposition_proceeds", "overlap_accepted_reason"
  ];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function byId(id) { return document.getElementById(id); }

  function normalise(name, value) {
    if (value === undefined || value === null || value === "") { return null; }
    if (name === "council_district") { return parseInt(value, 10); }
    return String(value);
  }

  /* The form's word for a field (the panel's data-label, from registry/parcels/labels.py). */
  function labelOf(name) {
    var field = document.querySelector('#parcel-form .field[data-field="' + name + '"]');
    if (field && field.dataset.label) { return field.dataset.label; }
    var text = String(name || "").replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /* Geodesic area (m²) of a ring of [lon, lat] on the WGS 84 sphere (spherical excess). */
  var EARTH_RADIUS = 6378137;
  function ringArea(ring) {
    var total = 0, rad = Math.PI / 180;
    for (var i = 0; i < ring.length - 1; i++) {
      var a = ring[i], b = ring[i + 1];
      total += (b[0] - a[0]) * rad * (2 + Math.sin(a[1] * rad) + Math.sin(b[1] * rad));
    }
    return Math.abs(total * EARTH_RADIUS * EARTH_RADIUS / 2);
  }
  function closed(ring) {
    if (!ring.length) { return ring; }
    var first = ring[0], last = ring[ring.length - 1];
    return first[0] === last[0] && first[1] === last[1] ? ring : ring.concat([first]);
  }
  function multiPolygonArea(geometry) {
    var area = 0;
    (geometry.coordinates || []).forEach(function (polygon) {
      polygon.forEach(function (ring, index) {
        var a = ringArea(closed(ring));
        area += index === 0 ? a : -a;
      });
    });
    return area;
  }
  function areaText(squareMetres) {
    return "Area: " + Math.round(squareMetres).toLocaleString("en-US") + " m² (" +
      Math.round(squareMetres * 10.7639104).toLocaleString("en-US") + " sq ft)";
  }

  function multiPolygonOf(group) {
    var coordinates = [];
    group.eachLayer(function (layer) {
      var geometry = layer.toGeoJSON().geometry;
      if (geometry.type === "Polygon") { coordinates.push(geometry.coordinates); }
      if (geometry.type === "MultiPolygon") { coordinates = coordinates.concat(geometry.coordinates); }
    });
    return { type: "MultiPolygon", coordinates: coordinates };
  }

  document.addEventListener("registry:map-ready", function (ready) {
    var map = ready.detail.map, options = ready.detail.options;
    if (!options.editing) { return; }
    var panel = byId("parcel-panel"), form = byId("parcel-form");
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var state = { parcelId: null, etag: null, original: {}, isNew: false, editLayer: null,
                  geometryDirty: false, marker: null, theirs: null,
                  drawingShape: false, shapeDrawn: false,
                  undo: [], redo: [], neighbours: null, splitting: false, splitLine: null,
                  merging: false };
    var SNAP = { snappable: true, snapDistance: 15 };
    var EDIT_OPTIONS = { allowSelfIntersection: false, draggable: false, snappable: true,
                         snapDistance: 15 };

    function fillSelect(name, pairs, blank) {
      var select = form.elements[name];
      select.innerHTML = "";
      if (blank) { select.appendChild(new Option("—", "")); }
      pairs.forEach(function (pair) { select.appendChild(new Option(pair[1], pair[0])); });
    }
    fillSelect("department_code", options.departments, true);
    Object.keys(options.choices).forEach(function (name) {
      fillSelect(name, options.choices[name], name === "asset_type");
    });

    function setStatus(text, isError) {
      var line = byId("panel-status");
      line.textContent = text || "";
      line.classList.toggle("error", Boolean(isError));
    }

    /* A refused gesture's reason, on the map (role=alert: read out at once), for a few seconds. */
    var messageTimer = null;
    function sayOnMap(text) {
      var box = byId("map-message");
      box.textContent = text;
      box.hidden = false;
      clearTimeout(messageTimer);
      messageTimer = setTimeout(function () { box.hidden = true; }, 8000);
    }

    function currentShape() {
      return state.editLayer ? multiPolygonOf(state.editLayer) : null;
    }

    function showArea(geometry) {
      var line = byId("area-readout");
      line.textContent = geometry && geometry.coordinates.length ? areaText(multiPolygonArea(geometry)) : "";
    }

    function updateUndoButtons() {
      byId("undo-edit").disabled = state.undo.length < 2;
      byId("redo-edit").disabled = !state.redo.length;
    }

    /* Each edit of the shape is a step: the shape after it is kept, so Undo goes back one. */
    function recordStep() {
      var shape = currentShape();
      if (!shape) { return; }
      state.undo.push(JSON.stringify(shape));
      state.redo = [];
      showArea(shape);
      updateUndoButtons();
    }

    function restoreStep(serialised) {
      var keep = { undo: state.undo, redo: state.redo };
      setEditLayer(editableShape(JSON.parse(serialised)));
      state.undo = keep.undo; state.redo = keep.redo;
      state.geometryDirty = state.undo.length > 1;
      showArea(currentShape());
      updateUndoButtons();
    }

    function undo() {
      if (state.undo.length < 2) { return; }
      state.redo.push(state.undo.pop());
      restoreStep(state.undo[state.undo.length - 1]);
      setStatus("Undone: the shape is as before your last change.");
    }

    function redo() {
      if (!state.redo.length) { return; }
      var step = state.redo.pop();
      state.undo.push(step);
      restoreStep(step);
      setStatus("Redone.");
    }

    /* The neighbours in view, drawn faintly: vertices snap to their corners and edges. Only the
       latest view's answer is drawn: an earlier view's arriving late (the city-wide one the page
       opens on) would replace the neighbours a corner is about to snap to. */
    var neighboursAsked = 0;
    function loadNeighbours() {
      if (!state.editLayer && !map.pm.globalDrawModeEnabled()) { return; }
      var b = map.getBounds(), mine = ++neighboursAsked;
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(6);
      }).join(",");
      request("GET", options.apiUrl + "?limit=500&bbox=" + bbox).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (collection) {
        if (!collection || mine !== neighboursAsked) { return; }
        if (state.neighbours) { map.removeLayer(state.neighbours); }
        var others = collection.features.filter(function (f) {
          return f.geometry && f.id !== state.parcelId;
        });
        state.neighbours = L.geoJSON({ type: "FeatureCollection", features: others }, {
          pmIgnore: true, snapIgnore: false, interactive: false,
          style: { color: "#595959", weight: 1, opacity: 0.6, fill: false, dashArray: "2 3" }
        }).addTo(map);
        state.neighbours.eachLayer(function (layer) {
          layer.feature && layer.getElement && layer.getElement() &&
            layer.getElement().setAttribute("data-neighbour", layer.feature.id);
        });
      }).catch(function () {});
    }
    map.on("moveend", loadNeighbours);

    /* Geoman's vertex handles are role=button: each gets a name a screen reader can say. */
    function nameHandles(root) {
      root.querySelectorAll(".marker-icon:not([aria-label])").forEach(function (handle) {
        handle.setAttribute("aria-label", handle.classList.contains("marker-icon-middle")
          ? "Add a corner here: drag it" : "Corner of the shape: drag it to move");
      });
    }
    var markerPane = map.getPane("markerPane");
    new MutationObserver(function () { nameHandles(markerPane); })
      .observe(markerPane, { childList: true });

    function clearErrors() {
      form.querySelectorAll(".field").forEach(function (field) {
        field.classList.remove("invalid");
        field.querySelector(".field-error").textContent = "";
        var input = field.querySelector("input, select, textarea");
        if (input) { input.removeAttribute("aria-invalid"); }
      });
      if (state.marker) { map.removeLayer(state.marker); state.marker = null; }
    }

    function showErrors(errors) {
      (errors || []).forEach(function (error) {
        var field = form.querySelector('.field[data-field="' + error.field + '"]') ||
                    form.querySelector('.field[data-field="geometry"]');
        field.classList.add("invalid");
        var input = field.querySelector("input, select, textarea");
        if (input) { input.setAttribute("aria-invalid", "true"); }
        var box = field.querySelector(".field-error");
        box.textContent = (box.textContent ? box.textContent + " " : "") +
          (error.field === field.dataset.field && error.field !== "geometry"
            ? "" : labelOf(error.field) + ": ") + error.message;
        if (error.field === "geometry") { sayOnMap(labelOf("geometry") + ": " + error.message); }
        if (error.overlaps) { byId("overlap-field").hidden = false; }
        if (error.location && error.location.coordinates) {
          var c = error.location.coordinates;
          state.marker = L.circleMarker([c[1], c[0]], { radius: 8, color: "#a40000", snapIgnore: true })
            .bindTooltip(error.message, { permanent: true, direction: "right" }).addTo(map);
        }
      });
      var first = form.querySelector(".field.invalid");
      if (first) { first.scrollIntoView({ block: "nearest" }); }
      setStatus("Not saved: correct the fields marked in red.", true);
    }

    function formValues() {
      var values = {};
      FIELDS.forEach(function (name) { values[name] = normalise(name, form.elements[name].value); });
      return values;
    }

    function changedProperties(against) {
      var values = formValues(), changed = {};
      FIELDS.forEach(function (name) {
        if (state.isNew ? values[name] !== null : values[name] !== normalise(name, against[name])) {
          changed[name] = values[name];
        }
      });
      return changed;
    }

    function fillForm(properties) {
      FIELDS.forEach(function (name) {
        var value = properties[name];
        form.elements[name].value = value === null || value === undefined ? "" : value;
      });
      byId("overlap-field").hidden = !properties.overlap_accepted_reason;
    }

    function setEditLayer(layer) {
      if (state.editLayer) { map.removeLayer(state.editLayer); }
      state.editLayer = layer;
      state.geometryDirty = false;
      if (!layer) {
        state.undo = []; state.redo = [];
        showArea(null);
        updateUndoButtons();
        return;
      }
      layer.addTo(map);
      layer.eachLayer(watchPart);
      state.undo = [JSON.stringify(currentShape())];
      state.redo = [];
      showArea(currentShape());
      updateUndoButtons();
      loadNeighbours();
    }

    function watchPart(part) {
      part.pm.enable(EDIT_OPTIONS);
      part.on("pm:edit", function () { state.geometryDirty = true; recordStep(); });
      part.on("pm:markerdrag", function () { showArea(currentShape()); });
      part.on("pm:layerreset", function () {
        showArea(currentShape());
        sayOnMap("That corner went back: moved there, two edges of the shape would cross. " +
                 "A parcel's edges may not cross; move it elsewhere or add a corner first.");
      });
    }

    function editableShape(geometry) {
      return L.geoJSON(geometry, {
        style: { color: "#d62728", weight: 2, fillOpacity: 0.1 },
        pmIgnore: false, snapIgnore: true
      });
    }

    function openPanel(title) {
      byId("panel-title").textContent = title;
      byId("panel-conflict").hidden = true;
      panel.hidden = false;
      clearErrors();
      setStatus("");
    }

    function stopDrawing() {
      if (state.drawingShape) { map.pm.disableDraw(); }
      state.drawingShape = false;
      state.shapeDrawn = false;
    }

    function fitTo(geometry, maxZoom) {
      var phone = window.innerWidth <= 700;  // the panel is a bottom sheet there
      map.fitBounds(L.geoJSON(geometry).getBounds(), {
        maxZoom: maxZoom, paddingTopLeft: [40, 60],
        paddingBottomRight: phone ? [20, Math.round(window.innerHeight * 0.5)] : [400, 40]
      });
    }

    function showFeature(feature, etag) {
      stopDrawing();
      byId("no-shape").hidden = Boolean(feature.geometry || feature.properties.retired_at);
      state.parcelId = feature.id;
      state.etag = etag;
      state.isNew = false;
      state.original = feature.properties;
      fillForm(feature.properties);
      setEditLayer(feature.geometry ? editableShape(feature.geometry) : null);
      byId("retire-parcel").hidden = false;
      byId("parcel-record-link").hidden = false;
      byId("parcel-record-link").href = options.parcelPageUrl.replace(
        "{parcel_id}", encodeURIComponent(feature.id));
    }

    function request(method, url, body, etag) {
      var headers = { "X-CSRF-Token": csrfToken(), Accept: "application/geo+json" };
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      if (etag) { headers["If-Match"] = etag; }
      return fetch(url, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    }

    function parcelUrl(id) { return options.apiUrl + "/" + encodeURIComponent(id); }

    /* The mapped parcel on the same street whose house number is nearest, or null: where a paper
     * record most likely lies. A hint only; the editor still finds the parcel on the map. */
    function nearestOnStreet(address) {
      var match = /^\s*(\d+)\s+(\S.*?)\s*$/.exec(address || "");
      if (!match) { return Promise.resolve(null); }
      var number = parseInt(match[1], 10);
      return request("GET", options.apiUrl + "?limit=100&q=" + encodeURIComponent(match[2]))
        .then(function (response) { return response.ok ? response.json() : { features: [] }; })
        .then(function (collection) {
          var nearest = null, distance = Infinity;
          collection.features.forEach(function (feature) {
            var house = /^\s*(\d+)\s/.exec(feature.properties.address || "");
            if (!feature.geometry || !house) { return; }
            var d = Math.abs(parseInt(house[1], 10) - number);
            if (d < distance) { nearest = feature; distance = d; }
          });
          return nearest;
        })
        .catch(function () { return null; });
    }

    function offerShape(feature) {
      setStatus("No shape yet: find the parcel on the map, then Draw its shape.");
      return nearestOnStreet(feature.properties.address).then(function (near) {
        if (!near || state.parcelId !== feature.id || state.drawingShape || state.shapeDrawn) {
          return;
        }
        fitTo(near.geometry, 17);
        setStatus("Centred near " + near.properties.address + ", the nearest mapped address " +
                  "on its street: find the parcel, then Draw its shape.");
      });
    }

    /* Open a parcel in the panel; `zoomTo` also brings its shape into view. */
    function select(parcelId, zoomTo) {
      return request("GET", parcelUrl(parcelId)).then(function (response) {
        if (!response.ok) { return null; }
        return response.json().then(function (feature) {
          openPanel("Parcel " + feature.id);
          showFeature(feature, response.headers.get("ETag"));
          if (feature.properties.retired_at) {
            setStatus("This parcel is retired.");
          } else if (!feature.geometry) {
            return offerShape(feature).then(function () { return feature; });
          } else if (zoomTo) {
            fitTo(feature.geometry, 18);
          }
          return feature;
        });
      });
    }

    function showConflict(problem, mine) {
      var theirs = problem.current;
      var when = problem.changed_at ? new Date(problem.changed_at).toLocaleString() : "recently";
      var differences = Object.keys(mine).filter(function (name) {
        return normalise(name, theirs.properties[name]) !== normalise(name, state.original[name]);
      });
      var box = byId("panel-conflict");
      box.innerHTML = "<strong>" + RegistryMap.escapeHtml(problem.changed_by || "Someone") +
        " saved this parcel at " + RegistryMap.escapeHtml(when) + " (now version " +
        problem.current_version + ").</strong> Your change was not saved." +
        (differences.length ? "<br>They also changed what you changed:<ul>" +
          differences.map(function (name) {
            return "<li>" + RegistryMap.escapeHtml(labelOf(name)) + ": theirs “" +
              RegistryMap.escapeHtml(theirs.properties[name]) + "”, yours “" +
              RegistryMap.escapeHtml(mine[name]) + "”</li>";
          }).join("") + "</ul>" : "") +
        '<div class="actions"><button type="button" id="reapply-changes">Re-apply my changes</button>' +
        '<button type="button" id="discard-changes">Discard mine, show theirs</button></div>';
      box.hidden = false;
      if (state.theirs) { map.removeLayer(state.theirs); }
      state.theirs = theirs.geometry ? L.geoJSON(theirs.geometry, {
        style: { color: "#555", dashArray: "4 4", weight: 2, fill: false }, pmIgnore: true
      }).addTo(map) : null;
      var myShape = state.geometryDirty ? multiPolygonOf(state.editLayer) : null;
      byId("reapply-changes").onclick = function () {
        box.hidden = true;
        showFeature(theirs, problem.etag);
        Object.keys(mine).forEach(function (name) {
          form.elements[name].value = mine[name] === null ? "" : mine[name];
        });
        if (myShape) { setEditLayer(editableShape(myShape)); state.geometryDirty = true; }
        save(true);
      };
      byId("discard-changes").onclick = function () {
        box.hidden = true;
        showFeature(theirs, problem.etag);
        setStatus("Showing version " + problem.current_version + ".");
      };
      setStatus("Not saved: the parcel changed meanwhile.", true);
    }

    /* Saving any change to a verified parcel revokes its verification (the database does it):
     * the editor is asked first, in the panel, and nothing is sent until they confirm. */
    function revokes(mine, body) {
      return state.original.digitization_status === "verified" && !state.isNew &&
        (Object.keys(mine).length > 0 || Boolean(body.geometry)) &&
        mine.digitization_status !== "verified";
    }

    function askBeforeRevoking() {
      var box = byId("revoke-warning");
      var by = state.original.verified_by ? " by " + state.original.verified_by : "";
      byId("revoke-text").textContent = "Parcel " + state.parcelId + " is verified" + by +
        ". Saving this change revokes its verification: someone else will have to verify it again.";
      box.hidden = false;
      byId("revoke-confirm").focus();
      return new Promise(function (resolve) {
        byId("revoke-confirm").onclick = function () { box.hidden = true; resolve(true); };
        byId("revoke-cancel").onclick = function () {
          box.hidden = true;
          setStatus("Not saved: the parcel stays verified.");
          resolve(false);
        };
      });
    }

    function save(confirmed) {
      clearErrors();
      var mine = changedProperties(state.original);
      var body = { type: "Feature", properties: mine };
      if (state.editLayer && (state.geometryDirty || state.isNew)) {
        body.geometry = multiPolygonOf(state.editLayer);
      }
      if (!state.isNew && !Object.keys(mine).length && !body.geometry) {
        setStatus("Nothing changed.");
        return Promise.resolve();
      }
      if (confirmed !== true && revokes(mine, body)) {
        return askBeforeRevoking().then(function (ok) { return ok ? save(true) : undefined; });
      }
      setStatus("Saving…");
      var call = state.isNew ? request("POST", options.apiUrl, body)
                             : request("PATCH", parcelUrl(state.parcelId), body, state.etag);
      var wasPaper = !state.isNew && state.original.digitization_status === "paper";
      var wasVerified = !state.isNew && state.original.digitization_status === "verified";
      return call.then(function (response) {
        if (response.ok) {
          return response.json().then(function (feature) {
            if (state.theirs) { map.removeLayer(state.theirs); state.theirs = null; }
            showFeature(feature, response.headers.get("ETag"));
            byId("panel-title").textContent = "Parcel " + feature.id;
            setStatus("Saved: version " + feature.properties.version + "." +
                      (wasPaper && feature.properties.digitization_status === "digitized"
                        ? " The record is now digitized." : "") +
                      (wasVerified && feature.properties.digitization_status !== "verified"
                        ? " Its verification was revoked: it needs verifying again." : ""));
            RegistryMap.refreshParcels();
          });
        }
        return response.json().then(function (problem) {
          if (response.status === 422) { showErrors(problem.errors); }
          else if (response.status === 412 && problem.current) { showConflict(problem, mine); }
          else { setStatus(problem.title + (problem.detail ? ": " + problem.detail : ""), true); }
        });
      }).catch(function () { setStatus("Not saved: the server could not be reached.", true); });
    }

    function retire() {
      if (!window.confirm("Retire parcel " + state.parcelId + "? It leaves the map; its history stays.")) {
        return;
      }
      request("DELETE", parcelUrl(state.parcelId), undefined, state.etag).then(function (response) {
        if (response.status === 204) {
          closePanel();
          RegistryMap.refreshParcels();
          return;
        }
        return response.json().then(function (problem) {
          if (response.status === 412 && problem.current) { showConflict(problem, {}); }
          else { setStatus(problem.title + (problem.detail ? ": " + problem.detail : ""), true); }
        });
      });
    }

    function closePanel() {
      panel.hidden = true;
      stopDrawing();
      endSplit();
      endMerge();
      byId("revoke-warning").hidden = true;
      if (state.neighbours) { map.removeLayer(state.neighbours); state.neighbours = null; }
      byId("no-shape").hidden = true;
      clearErrors();
      setEditLayer(null);
      if (state.theirs) { map.removeLayer(state.theirs); state.theirs = null; }
      state.parcelId = null;
    }

    function startNewParcel(layer) {
      openPanel("New parcel");
      state.parcelId = null;
      state.etag = null;
      state.isNew = true;
      state.original = {};
      fillForm({ status: "in_use", legal_interest: "owned", digitization_status: "digitized" });
      setEditLayer(L.featureGroup([layer]));
      byId("no-shape").hidden = true;
      byId("retire-parcel").hidden = true;
      byId("parcel-record-link").hidden = true;
      setStatus("Fill in the parcel id and attributes, then save.");
    }

    function drawShape() {
      if (!state.parcelId || state.isNew) { return; }
      clearErrors();
      state.drawingShape = true;
      map.pm.enableDraw("Polygon", Object.assign({ allowSelfIntersection: false }, SNAP));
      loadNeighbours();
      setStatus("Click on the map at each corner of the parcel; click the first corner to finish. " +
                "Esc cancels.");
    }

    /* The polygon drawn for a record without a shape becomes its shape and is saved at once;
     * if the server refuses it, it stays editable beside the messages (or is drawn again). */
    function attachShape(layer) {
      setEditLayer(L.featureGroup([layer]));
      state.geometryDirty = true;
      state.shapeDrawn = true;
      if (state.original.digitization_status === "paper" &&
          form.elements.digitization_status.value === "paper") {
        form.elements.digitization_status.value = "digitized";
      }
      return save();
    }

    // Geoman's cut replaces the cut polygon by a new layer: keep the edit group pointing at it.
    map.on("pm:cut", function (event) {
      if (!state.editLayer || !state.editLayer.hasLayer(event.originalLayer)) { return; }
      state.editLayer.removeLayer(event.originalLayer);
      map.removeLayer(event.originalLayer);
      state.editLayer.addLayer(event.layer);
      watchPart(event.layer);
      state.geometryDirty = true;
      recordStep();
    });
    byId("cut-hole").addEventListener("click", function () {
      if (!state.editLayer) { return; }
      map.pm.enableGlobalCutMode({
        allowSelfIntersection: false, layersToCut: state.editLayer.getLayers()
      });
      setStatus("Draw the hole inside the shape; it is cut when the ring is closed.");
    });
    map.on("pm:create", function (event) {
      if (event.shape === "Cut") { return; }
      map.removeLayer(event.layer);
      if (event.shape === "Line") {
        if (state.splitting) { splitLineDrawn(event.layer); }
        return;
      }
      if (state.drawingShape) {
        state.drawingShape = false;
        attachShape(event.layer);
      } else {
        startNewParcel(event.layer);
      }
    });
    byId("draw-parcel").addEventListener("click", function () {
      closePanel();
      map.pm.enableDraw("Polygon", Object.assign({ allowSelfIntersection: false }, SNAP));
      loadNeighbours();
      sayOnMap("Click each corner of the new parcel; click the first corner to finish. Esc cancels.");
    });
    byId("draw-shape").addEventListener("click", drawShape);
    byId("save-parcel").addEventListener("click", function () { save(); });
    byId("retire-parcel").addEventListener("click", retire);
    byId("close-panel").addEventListener("click", closePanel);
    /* While drawing: the area so far, and a corner refused because edges would cross. */
    map.on("pm:drawstart", function (event) {
      if (!event.workingLayer) { return; }
      event.workingLayer.on("pm:vertexadded", function () {
        if (event.shape !== "Polygon") { return; }
        var ring = event.workingLayer.getLatLngs().map(function (p) { return [p.lng, p.lat]; });
        byId("area-readout").textContent = ring.length > 2
          ? areaText(ringArea(closed(ring))) + " so far" : "";
      });
    });
    map.on("pm:intersect", function () {
      sayOnMap("That corner was not added: the edges would cross (a bow-tie). A parcel's edges " +
               "may not cross; click a corner that keeps the outline simple.");
    });

    /* Esc cancels what is under way: a drawing, a split line, a hole, or the unsaved shape edit. */
    function cancelGesture() {
      if (!byId("revoke-warning").hidden) { byId("revoke-cancel").click(); return true; }
      if (map.pm.globalDrawModeEnabled()) {
        map.pm.disableDraw();
        state.drawingShape = false;
        if (state.splitting) { endSplit(); }
        sayOnMap("Drawing cancelled.");
        return true;
      }
      if (map.pm.globalCutModeEnabled && map.pm.globalCutModeEnabled()) {
        map.pm.disableGlobalCutMode();
        sayOnMap("Cutting a hole cancelled.");
        return true;
      }
      if (state.splitting) { endSplit(); sayOnMap("Split cancelled."); return true; }
      if (state.merging) { endMerge(); sayOnMap("Merge cancelled."); return true; }
      if (state.geometryDirty && state.undo.length) {
        restoreStep(state.undo[0]);
        state.undo = [state.undo[0]]; state.redo = [];
        state.geometryDirty = false;
        updateUndoButtons();
        sayOnMap("Shape edit cancelled: the shape is as saved.");
        return true;
      }
      return false;
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        if (cancelGesture()) { event.preventDefault(); }
        return;
      }
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target || {}).tagName || "");
      if (typing || panel.hidden || !(event.ctrlKey || event.metaKey)) { return; }
      var key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) { undo(); event.preventDefault(); }
      else if (key === "y" || (key === "z" && event.shiftKey)) { redo(); event.preventDefault(); }
    });
    byId("undo-edit").addEventListener("click", undo);
    byId("redo-edit").addEventListener("click", redo);

    /* Split: a line drawn across the parcel cuts it into pieces named west to east. */
    function startSplit() {
      if (!state.parcelId || state.isNew || !state.editLayer) {
        sayOnMap("Split needs a saved parcel with a shape: select one first.");
        return;
      }
      endMerge();
      state.splitting = true;
      byId("split-box").hidden = false;
      byId("split-error").textContent = "";
      byId("split-ids").focus();
      drawSplitLine();
    }
    function drawSplitLine() {
      if (state.splitLine) { map.removeLayer(state.splitLine); state.splitLine = null; }
      byId("split-send").disabled = true;
      map.pm.enableDraw("Line", Object.assign({}, SNAP));
      sayOnMap("Draw the split line across the parcel: click from outside one side to outside " +
               "the other, then click the last point again to finish. Esc cancels.");
    }
    function splitLineDrawn(layer) {
      state.splitLine = L.polyline(layer.getLatLngs(), {
        color: "#0b5394", weight: 3, dashArray: "6 4", pmIgnore: true, snapIgnore: true
      }).addTo(map);
      byId("split-send").disabled = false;
      setStatus("Line drawn: name the pieces, then Split.");
    }
    function endSplit() {
      state.splitting = false;
      if (state.splitLine) { map.removeLayer(state.splitLine); state.splitLine = null; }
      byId("split-box").hidden = true;
    }
    function sendSplit() {
      var ids = byId("split-ids").value.split(",").map(function (v) { return v.trim(); })
        .filter(Boolean);
      var input = byId("split-ids");
      input.removeAttribute("aria-invalid");
      if (!state.splitLine) { byId("split-error").textContent = "Draw the line first."; return; }
      var line = { type: "LineString", coordinates: state.splitLine.getLatLngs().map(function (p) {
        return [p.lng, p.lat];
      }) };
      setStatus("Splitting…");
      return request("POST", parcelUrl(state.parcelId) + "/split",
                     { line: line, parcel_ids: ids }, state.etag).then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) {
            var made = body.features.map(function (f) { return f.id; });
            endSplit();
            RegistryMap.refreshParcels();
            return select(made[0]).then(function () {
              setStatus("Split into " + made.join(", ") + "; " + made[0] + " is open.");
              sayOnMap("Parcel split into " + made.join(", ") + ".");
            });
          }
          if (response.status === 412 && body.current) { endSplit(); showConflict(body, {}); return; }
          var text = (body.errors || []).map(function (e) {
            return labelOf(e.field) + ": " + e.message;
          }).join(" ") || body.title;
          input.setAttribute("aria-invalid", "true");
          byId("split-error").textContent = text;
          sayOnMap("Not split. " + text);
          setStatus("Not split.", true);
        });
      }).catch(function () { setStatus("Not split: the server could not be reached.", true); });
    }
    byId("split-start").addEventListener("click", startSplit);
    byId("split-draw").addEventListener("click", drawSplitLine);
    byId("split-send").addEventListener("click", sendSplit);
    byId("split-cancel").addEventListener("click", function () {
      if (map.pm.globalDrawModeEnabled()) { map.pm.disableDraw(); }
      endSplit();
    });

    /* Merge: this parcel's record is kept; the neighbours clicked (or typed) are merged in. */
    function startMerge() {
      if (!state.parcelId || state.isNew || !state.editLayer) {
        sayOnMap("Merge needs a saved parcel with a shape: select one first.");
        return;
      }
      endSplit();
      state.merging = true;
      byId("merge-box").hidden = false;
      byId("merge-error").textContent = "";
      byId("merge-ids").focus();
      setStatus("Click the neighbouring parcels to merge with " + state.parcelId + ".");
    }
    function endMerge() {
      state.merging = false;
      byId("merge-box").hidden = true;
    }
    function addToMerge(parcelId) {
      if (parcelId === state.parcelId) { return; }
      var input = byId("merge-ids");
      var ids = input.value.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
      if (ids.indexOf(parcelId) < 0) { ids.push(parcelId); }
      input.value = ids.join(", ");
    }
    function sendMerge() {
      var input = byId("merge-ids");
      input.removeAttribute("aria-invalid");
      var ids = input.value.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
      if (!ids.length) {
        byId("merge-error").textContent = "Name at least one parcel to merge with.";
        input.setAttribute("aria-invalid", "true");
        return;
      }
      setStatus("Merging…");
      var keep = state.parcelId, tags = {};
      tags[keep] = state.etag;
      return Promise.all(ids.map(function (id) {
        return request("GET", parcelUrl(id)).then(function (response) {
          tags[id] = response.ok ? response.headers.get("ETag") : "unknown";
        });
      })).then(function () {
        return request("POST", options.apiUrl + "/merge", { parcels: tags, keep: keep }, state.etag);
      }).then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) {
            endMerge();
            RegistryMap.refreshParcels();
            return select(body.features[0].id).then(function () {
              setStatus("Merged " + ids.join(", ") + " into " + keep + ".");
              sayOnMap("Merged " + ids.join(", ") + " into " + keep + ".");
            });
          }
          if (response.status === 412 && body.current) { endMerge(); showConflict(body, {}); return; }
          var text = (body.errors || []).map(function (e) {
            return labelOf(e.field) + ": " + e.message;
          }).join(" ") || body.title;
          input.setAttribute("aria-invalid", "true");
          byId("merge-error").textContent = text;
          sayOnMap("Not merged. " + text);
          setStatus("Not merged.", true);
        });
      }).catch(function () { setStatus("Not merged: the server could not be reached.", true); });
    }
    byId("merge-start").addEventListener("click", startMerge);
    byId("merge-send").addEventListener("click", sendMerge);
    byId("merge-cancel").addEventListener("click", endMerge);

    document.addEventListener("registry:parcel-selected", function (event) {
      if (state.merging && !panel.hidden) { addToMerge(event.detail.parcelId); return; }
      // do not lose a drawing in progress
      if ((state.isNew || state.shapeDrawn) && !panel.hidden) { return; }
      select(event.detail.parcelId);
    });

    RegistryMap.editor = { map: map, select: select, save: save, state: state, shape: currentShape,
                           undo: undo, redo: redo };
    if (options.editParcel) {
      select(options.editParcel, true).then(function (feature) {
        if (feature && !feature.geometry && !feature.properties.retired_at) {
          byId("draw-shape").focus();
        }
      });
    }
  });
})();
