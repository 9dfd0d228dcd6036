// The KPI desk (/kpi) and the public KPI page: the selection form fetches its JSON
// (data-values-url) and updates the tiles and charts in place, no page reload; the form stays
// a plain GET form without JavaScript. formatKpi applies registry/kpis/units.py's rules.
"use strict";

(function () {
  const MINUS = "\u2212";
  const grouped = (n, places) =>
    Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
  // Python rounds half up on the decimal string; round the same way before toLocaleString
  const roundHalfUp = (n, places) => {
    const f = Math.pow(10, places);
    return Math.sign(n) * Math.round(Math.abs(n) * f + 1e-9) / f;
  };
  const fixed = (n, places) => grouped(roundHalfUp(n, places), places);
  const sign = (n) => (n < 0 && Math.abs(roundHalfUp(n, 2)) > 0 ? MINUS : "");

  function formatKpi(value, kind) {
    if (value === null || value === undefined || value === "") return "—";
    const n = Number(value);
    const s = sign(n);
    switch (kind) {
      case "percent": return s + fixed(n, 1) + " %";
      case "count": return s + fixed(n, 0);
      case "money": return s + "$" + fixed(n, 0);
      case "rate": return s + "$" + fixed(n, 2) + " per sq ft";
      case "area_per_person": return s + fixed(n, 0) + " sq ft/person";
      case "days": {
        const days = fixed(n, 0);
        return (n > 0 ? "+" : s) + days + (days === "1" ? " day" : " days");
      }
      case "index": return s + fixed(n, 1) + " of 100";
      default: return s + fixed(n, Number.isInteger(n) ? 0 : 2);
    }
  }
  window.formatKpi = formatKpi;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function figure(tile) {
    const p = el("p", "kpi-figure");
    if (!tile.computed) {
      p.appendChild(el("span", "kpi-empty", "Not computed yet for this selection."));
      return p;
    }
    const holder = tile.url ? el("a", "kpi-value-link") : p;
    if (tile.url) { holder.href = tile.url; p.appendChild(holder); }
    if (tile.value === null) {
      holder.appendChild(el("span", "kpi-empty", "no value"));
    } else {
      const span = el("span", "kpi-value", formatKpi(tile.value, tile.kind));
      span.dataset.value = tile.value;
      holder.appendChild(span);
    }
    // what the link lists, where that is not plainly the figure's records (UTL-4's parcels)
    if (tile.url && tile.url_label) p.append(" ", el("span", "kpi-link-label", "(" + tile.url_label + ")"));
    return p;
  }

  function meta(tile) {
    const p = el("p", "kpi-meta");
    let text = "";
    if (tile.numerator) text += tile.numerator + (tile.denominator ? " ÷ " + tile.denominator : "");
    if (tile.target) text += " · target " + tile.target;
    p.appendChild(document.createTextNode(text));
    if (tile.status) {
      p.appendChild(document.createTextNode(" · "));
      p.appendChild(el("span", tile.status === "on target" ? "status-on" : "status-off", tile.status));
    }
    return p;
  }

  function update(data) {
    for (const tile of data.tiles) {
      const article = document.getElementById("tile-" + tile.id);
      if (!article) continue;
      article.querySelector(".kpi-figure").replaceWith(figure(tile));
      article.querySelector(".kpi-meta:not(.kpi-note)").replaceWith(meta(tile));
      const parts = article.querySelector(".kpi-parts");
      if (parts) {  // a KPI with several rows (LSE-2's balances), each named
        parts.replaceChildren(...(tile.parts || []).map((part) => {
          const item = el("li");
          item.append(el("span", "kpi-part-name", part.name), " ",
            el("span", "kpi-part-value", formatKpi(part.value, tile.kind)));
          return item;
        }));
        parts.hidden = !(tile.parts || []).length;
      }
      article.querySelector(".kpi-note").textContent = tile.note || "";
      const trend = article.querySelector(".kpi-trend");
      // the trend is server-made SVG (app/charts.py), the app's own markup
      trend.innerHTML = tile.trend || '<p class="kpi-empty no-snapshots">No snapshots yet.</p>';
      // where a combination's trend starts and why nothing earlier (empty otherwise)
      const origin = article.querySelector(".kpi-trend-origin");
      if (origin) origin.textContent = tile.trend_origin || "";
    }
    for (const [family, svg] of Object.entries(data.family_charts)) {
      const chart = document.querySelector("#family-" + family.toLowerCase() + " .family-chart");
      if (chart) chart.innerHTML = svg;
    }
    document.getElementById("kpi-selection").textContent = data.selection;
    document.getElementById("kpi-as-of").textContent = data.as_of;
    const source = document.getElementById("kpi-source");
    if (source) {
      source.textContent = data.source === "snapshot"
        ? "From the snapshot as of " + data.as_of + "."
        : "Computed from the records now.";
    }
    const note = document.getElementById("kpi-trend-note");
    if (note) {
      note.textContent = data.trend_note || "";
      note.hidden = !data.trend_note;
    }
  }

  // the district map follows the selection (its own page, in the frame); the district table
  // is the page's own rendering, so it says it is stale and links to the full page instead
  function followMap(query) {
    const frame = document.querySelector("iframe.kpi-map");
    if (!frame) return;
    const mapKpi = document.querySelector('#district-map select[name="map_kpi"]');
    const mapQuery = new URLSearchParams(query);
    if (mapKpi) mapQuery.set("map_kpi", mapKpi.value);
    const mapUrl = frame.dataset.mapUrl + "?" + mapQuery;
    frame.removeAttribute("srcdoc");
    frame.src = mapUrl;
    const link = document.getElementById("kpi-map-link");
    if (link) link.href = mapUrl;
    const stale = document.getElementById("district-values-stale");
    if (stale) {
      stale.hidden = false;
      stale.querySelector("a").href = location.pathname + "?" + mapQuery + "#district-map";
    }
    const mapForm = mapKpi && mapKpi.form;
    if (mapForm) {  // "Map it" keeps the selection
      for (const hidden of mapForm.querySelectorAll('input[type="hidden"]')) hidden.remove();
      for (const [name, value] of query.entries()) {
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: name, value: value });
        mapForm.prepend(input);
      }
    }
  }

  function start() {
    const form = document.getElementById("kpi-filters");
    if (!form || !window.fetch) return;
    let pending = null;
    const submit = async (event) => {
      if (event) event.preventDefault();
      const query = new URLSearchParams(new FormData(form));
      for (const [key, value] of [...query.entries()]) if (!value) query.delete(key);
      if (pending) pending.abort();
      pending = new AbortController();
      document.body.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(form.dataset.valuesUrl + "?" + query, {
          headers: { Accept: "application/json" }, signal: pending.signal, credentials: "same-origin",
        });
        if (!response.ok) {
          document.getElementById("kpi-selection").textContent =
            "not available for this selection (one dimension at a time here)";
          return;
        }
        update(await response.json());
        history.replaceState(null, "", location.pathname + "?" + query);
        followMap(query);
      } catch (error) {
        if (error.name !== "AbortError") form.submit();
      } finally {
        document.body.removeAttribute("aria-busy");
      }
    };
    form.addEventListener("submit", submit);
    form.addEventListener("change", submit);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
