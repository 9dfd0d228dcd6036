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
                  drawingShape: false, shapeDrawn: false };

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
      line.style.color = isError ? "#a40000" : "";
    }

    function clearErrors() {
      form.querySelectorAll(".field").forEach(function (field) {
        field.classList.remove("invalid");
        field.querySelector(".field-error").textContent = "";
      });
      if (state.marker) { map.removeLayer(state.marker); state.marker = null; }
    }

    function showErrors(errors) {
      (errors || []).forEach(function (error) {
        var field = form.querySelector('.field[data-field="' + error.field + '"]') ||
                    form.querySelector('.field[data-field="geometry"]');
        field.classList.add("invalid");
        var box = field.querySelector(".field-error");
        box.textContent = (box.textContent ? box.textContent + " " : "") +
          (error.field === field.dataset.field ? "" : error.field + ": ") + error.message;
        if (error.overlaps) { byId("overlap-field").hidden = false; }
        if (error.location && error.location.coordinates) {
          var c = error.location.coordinates;
          state.marker = L.circleMarker([c[1], c[0]], { radius: 8, color: "#a40000" })
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
      if (!layer) { return; }
      layer.addTo(map);
      layer.eachLayer(function (part) {
        part.pm.enable({ allowSelfIntersection: false, draggable: false });
        part.on("pm:edit", function () { state.geometryDirty = true; });
      });
    }

    function editableShape(geometry) {
      return L.geoJSON(geometry, {
        style: { color: "#d62728", weight: 2, fillOpacity: 0.1 },
        pmIgnore: false
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
      map.fitBounds(L.geoJSON(geometry).getBounds(), {
        maxZoom: maxZoom, paddingTopLeft: [40, 60], paddingBottomRight: [400, 40]
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
            return "<li>" + RegistryMap.escapeHtml(name) + ": theirs “" +
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
        save();
      };
      byId("discard-changes").onclick = function () {
        box.hidden = true;
        showFeature(theirs, problem.etag);
        setStatus("Showing version " + problem.current_version + ".");
      };
      setStatus("Not saved: the parcel changed meanwhile.", true);
    }

    function save() {
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
      setStatus("Saving…");
      var call = state.isNew ? request("POST", options.apiUrl, body)
                             : request("PATCH", parcelUrl(state.parcelId), body, state.etag);
      var wasPaper = !state.isNew && state.original.digitization_status === "paper";
      return call.then(function (response) {
        if (response.ok) {
          return response.json().then(function (feature) {
            if (state.theirs) { map.removeLayer(state.theirs); state.theirs = null; }
            showFeature(feature, response.headers.get("ETag"));
            byId("panel-title").textContent = "Parcel " + feature.id;
            setStatus("Saved: version " + feature.properties.version + "." +
                      (wasPaper && feature.properties.digitization_status === "digitized"
                        ? " The record is now digitized." : ""));
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
      map.pm.enableDraw("Polygon", { allowSelfIntersection: false });
      setStatus("Click on the map at each corner of the parcel; click the first corner to finish.");
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
      event.layer.pm.enable({ allowSelfIntersection: false, draggable: false });
      event.layer.on("pm:edit", function () { state.geometryDirty = true; });
      state.geometryDirty = true;
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
      if (state.drawingShape) {
        state.drawingShape = false;
        attachShape(event.layer);
      } else {
        startNewParcel(event.layer);
      }
    });
    byId("draw-parcel").addEventListener("click", function () {
      closePanel();
      map.pm.enableDraw("Polygon", { allowSelfIntersection: false });
    });
    byId("draw-shape").addEventListener("click", drawShape);
    byId("save-parcel").addEventListener("click", save);
    byId("retire-parcel").addEventListener("click", retire);
    byId("close-panel").addEventListener("click", closePanel);
    document.addEventListener("registry:parcel-selected", function (event) {
      // do not lose a drawing in progress
      if ((state.isNew || state.shapeDrawn) && !panel.hidden) { return; }
      select(event.detail.parcelId);
    });

    RegistryMap.editor = { select: select, save: save, state: state };
    if (options.editParcel) {
      select(options.editParcel, true).then(function (feature) {
        if (feature && !feature.geometry && !feature.properties.retired_at) {
          byId("draw-shape").focus();
        }
      });
    }
  });
})();
