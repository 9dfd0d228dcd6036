// The lease modification form works its payments out as the kind and dates change, exactly as
// its "Work out the payments" button does without a script: the same POST (action=work_out),
// which records nothing, and the rows and note of its answer copied in. Rows finance typed are
// never touched (only blank rows, or rows still as the last work-out left them), an answer with
// problems changes nothing (they show when the form is sent), and inputs are updated in place so
// focus stays where it is.
(function () {
  "use strict";
  const form = document.querySelector("form.modification-form");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  const WATCHED = ["kind", "effective_date", "end_date", "added_months", "termination_date"];
  // not form.action: the buttons named "action" shadow it
  const url = form.getAttribute("action");
  let asked = 0;

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
    let response;
    try {
      response = await fetch(url, { method: "POST", body: data, credentials: "same-origin" });
    } catch (error) {
      return; // offline: the button still works
    }
    if (response.status !== 200 || ticket !== asked) {
      return;
    }
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
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
    if (WATCHED.indexOf(event.target.name) !== -1) {
      workOut();
    }
  });
})();
