// Dates the browser cannot read, on the lease forms. A date input holding what is no date
// (02/30/2031) has an empty value and `validity.badInput`; the forms are `novalidate`, so it
// was sent blank and came back blank, under another field's "is required". On submit such an
// input stops the form and says so as the server says it ("End date: is not a date"), with the
// forms' error markup (_form_inputs.html): aria-invalid, a .field-error named by
// aria-describedby, and a summary. Without this script the form is sent as before.
(function () {
  "use strict";
  const MESSAGE = "is not a date";
  const SUMMARY_ID = "unreadable-dates";

  function labelOf(input) {
    const label = input.form.querySelector('label[for="' + input.id + '"]');
    if (!label) {
      return input.name;
    }
    const copy = label.cloneNode(true);
    copy.querySelectorAll(".required, .visually-hidden").forEach((node) => node.remove());
    return copy.textContent.trim();
  }

  function mark(input) {
    if (input.dataset.unreadable) {
      return;
    }
    const errorId = input.id + "-error";
    input.dataset.unreadable = "yes";
    input.dataset.wasInvalid = input.getAttribute("aria-invalid") || "";
    input.dataset.wasDescribedby = input.getAttribute("aria-describedby") || "";
    let error = document.getElementById(errorId);
    if (error) {
      input.dataset.wasError = error.textContent;
    } else {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = errorId;
      error.dataset.added = "yes";
      (input.closest(".form-field") || input.parentNode).appendChild(error);
    }
    error.textContent = MESSAGE;
    const ids = input.dataset.wasDescribedby.split(" ").filter((id) => id && id !== errorId);
    input.setAttribute("aria-describedby", [errorId, ...ids].join(" "));
    input.setAttribute("aria-invalid", "true");
    input.closest(".form-field")?.classList.add("invalid");
  }

  function unmark(input) {
    if (!input.dataset.unreadable) {
      return;
    }
    const error = document.getElementById(input.id + "-error");
    if (error && error.dataset.added) {
      error.remove();
    } else if (error) {
      error.textContent = input.dataset.wasError;
    }
    for (const [attribute, was] of [["aria-invalid", "wasInvalid"], ["aria-describedby", "wasDescribedby"]]) {
      if (input.dataset[was]) {
        input.setAttribute(attribute, input.dataset[was]);
      } else {
        input.removeAttribute(attribute);
      }
    }
    if (!input.dataset.wasInvalid) {
      input.closest(".form-field")?.classList.remove("invalid");
    }
    for (const key of ["unreadable", "wasInvalid", "wasDescribedby", "wasError"]) {
      delete input.dataset[key];
    }
  }

  function summarise(form, unreadable) {
    document.getElementById(SUMMARY_ID)?.remove();
    if (unreadable.length === 0) {
      return;
    }
    const summary = document.createElement("div");
    summary.className = "error-summary";
    summary.id = SUMMARY_ID;
    summary.setAttribute("role", "alert");
    summary.setAttribute("aria-labelledby", SUMMARY_ID + "-title");
    const title = document.createElement("h2");
    title.id = SUMMARY_ID + "-title";
    const n = unreadable.length;
    title.textContent = "Nothing was sent: " + n + " problem" + (n === 1 ? "" : "s") + " to correct";
    const list = document.createElement("ul");
    for (const input of unreadable) {
      const link = document.createElement("a");
      link.href = "#" + input.id;
      link.textContent = labelOf(input) + ": " + MESSAGE;
      list.appendChild(document.createElement("li")).appendChild(link);
    }
    summary.append(title, list);
    form.before(summary);
  }

  function dateInputs(form) {
    return Array.from(form.querySelectorAll('input[type="date"]'));
  }

  document.querySelectorAll("form.lease-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      const unreadable = dateInputs(form).filter((input) => input.validity.badInput);
      dateInputs(form).forEach((input) => (input.validity.badInput ? mark : unmark)(input));
      summarise(form, unreadable);
      if (unreadable.length > 0) {
        event.preventDefault();
        unreadable[0].focus();
      }
    });
    form.addEventListener("input", function (event) {
      const input = event.target;
      if (input.type === "date" && input.dataset.unreadable && !input.validity.badInput) {
        unmark(input);
        summarise(form, dateInputs(form).filter((each) => each.dataset.unreadable));
      }
    });
  });
})();
