// The lease modification form works its payments out as the kind and dates change, exactly as
// its "Work out the payments" button does without a script: the same POST (action=work_out),
// which records nothing, and the rows and note of its answer copied in. Rows finance typed are
// never touched (only blank rows, or rows still as the last work-out left them), an answer with
// problems changes nothing (they show when the form is sent), and inputs are updated in place so
// focus stays where it is.
//
// A Chromium date input changes on each digit of its year (0002, 0020, 0202, 2026): one POST
// each queued enough requests for finance's own submit to be refused (429). So the work-out
// waits until the inputs rest (DEBOUNCE_MS), is asked only when the dates it needs are complete
// and plausible, aborts the one still running, and is cancelled when the form is submitted.
(function () {
  "use strict";
  const form = document.querySelector("form.modification-form");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  const WATCHED = ["kind", "effective_date", "end_date", "added_months", "termination_date"];
  const DEBOUNCE_MS = 400;
  const FIRST_YEAR = 1900; // as the server: an earlier year is a typo (0026 for 2026)
  // not form.action: the buttons named "action" shadow it
  const url = form.getAttribute("action");
  let asked = 0;
  let waiting = null; // the timer of the work-out to ask once the inputs rest
  let running = null; // the AbortController of the work-out asked

  function plausibleDate(name) {
    const found = /^(\d{4})-\d{2}-\d{2}$/.exec(form.elements[name].value);
    return found !== null && Number(found[1]) >= FIRST_YEAR;
  }

  function datesComplete() {
    const kind = (form.querySelector('input[name="kind"]:checked') || {}).value;
    if (!plausibleDate("effective_date")) {
      return false;
    }
    if (kind === "termination") {
      return plausibleDate("termination_date");
    }
    if (kind === "extension") {
      return plausibleDate("end_date") || /^\s*\d+\s*$/.test(form.elements.added_months.value);
    }
    return kind === "payment_change";
  }

  function cancel() {
    clearTimeout(waiting);
    waiting = null;
    if (running) {
      running.abort();
      running = null;
    }
    asked += 1; // an answer already on its way is not used
  }

  function rowsKey(root) {
    const keys = [];
    for (let i = 0; ; i += 1) {
      const periods = root.querySelector("#payments-" + i + "-periods");
      const amount = root.querySelector("#payments-" + i + "-amount");
      if (!periods || !amount) {
        return keys.join(" ");
      }
      const p = periods.value.trim();
      const a = amount.value.trim();
      if (p || a) {
        keys.push(p + "x" + a);
      }
    }
  }

  function untouched() {
    const key = rowsKey(form);
    return key === "" || key === form.elements.worked_out.value;
  }

  function copyRows(fresh) {
    const tbody = form.querySelector("table.payment-steps tbody");
    const freshRows = fresh.querySelectorAll("table.payment-steps tbody tr");
    freshRows.forEach(function (row, index) {
      const mine = tbody.rows[index];
      if (!mine) {
        tbody.appendChild(document.importNode(row, true));
        return;
      }
      row.querySelectorAll("input").forEach(function (input) {
        const here = mine.querySelector("#" + input.id);
        if (here) {
          here.value = input.value;
        }
      });
    });
    for (let i = freshRows.length; i < tbody.rows.length; i += 1) {
      tbody.rows[i].querySelectorAll("input").forEach(function (input) {
        input.value = "";
      });
    }
  }

  async function workOut() {
    if (!untouched()) {
      return;
    }
    const ticket = ++asked;
    const data = new FormData(form);
    data.set("action", "work_out");
    const controller = new AbortController();
    running = controller;
    let response;
    let text;
    try {
      response = await fetch(url, {
        method: "POST", body: data, credentials: "same-origin", signal: controller.signal,
      });
      text = response.status === 200 && ticket === asked ? await response.text() : null;
    } catch (error) {
      return; // aborted for newer dates or a submit, or offline: the button still works
    } finally {
      if (running === controller) {
        running = null;
      }
    }
    if (text === null || ticket !== asked) {
      return;
    }
    const fresh = new DOMParser().parseFromString(text, "text/html");
    const note = fresh.querySelector("#worked-out");
    if (!note || ticket !== asked || !untouched()) {
      return;
    }
    copyRows(fresh);
    form.elements.worked_out.value = fresh.querySelector('input[name="worked_out"]').value;
    const mine = form.querySelector("#worked-out");
    mine.replaceChildren(...Array.from(note.childNodes, (node) => document.importNode(node, true)));
    mine.hidden = note.hidden;
  }

  form.addEventListener("change", function (event) {
    if (WATCHED.indexOf(event.target.name) === -1) {
      return;
    }
    cancel();
    if (datesComplete()) {
      waiting = setTimeout(function () {
        waiting = null;
        workOut();
      }, DEBOUNCE_MS);
    }
  });
  form.addEventListener("submit", cancel);
})();
