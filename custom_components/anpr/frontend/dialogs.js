// Modal dialogs of the card: a form (or a question) in a native <dialog>, so the card needs
// none of Home Assistant's internal elements, whose names and APIs change between releases.
import { STRINGS } from "./strings.js";

/** Escape a value for HTML text and attributes. */
export function escape(value) {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

function renderField(field) {
  const id = `anpr-field-${field.name}`;
  const required = field.required ? " required" : "";
  const label = `<label for="${id}">${escape(field.label)}</label>`;
  if (field.type === "select") {
    const options = field.options
      .map(
        ([value, text]) =>
          `<option value="${escape(value)}"${value === field.value ? " selected" : ""}>${escape(text)}</option>`,
      )
      .join("");
    return `<div class="field">${label}<select id="${id}" name="${field.name}"${required}>${options}</select></div>`;
  }
  if (field.type === "textarea") {
    return `<div class="field">${label}<textarea id="${id}" name="${field.name}" rows="2">${escape(field.value)}</textarea></div>`;
  }
  const type = { number: "number", datetime: "datetime-local" }[field.type] || "text";
  const min = field.type === "number" ? ` min="${field.min ?? 0}"` : "";
  return `<div class="field">${label}<input id="${id}" name="${field.name}" type="${type}"${min} value="${escape(field.value)}"${required}></div>`;
}

/** Turn a datetime-local value (the browser's time) into ISO 8601 with its offset. */
export function localToIso(value) {
  return value ? new Date(value).toISOString() : null;
}

/** Turn an ISO 8601 time into a datetime-local value in the browser's time zone. */
export function isoToLocal(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function readValues(form, fields) {
  const values = {};
  for (const field of fields) {
    const raw = form.elements[field.name].value.trim();
    if (field.type === "number") values[field.name] = raw === "" ? null : Number(raw);
    else if (field.type === "datetime") values[field.name] = localToIso(raw);
    else values[field.name] = raw;
  }
  return values;
}

/**
 * Show a modal dialog in `host` (the card's shadow root). `onSubmit(values)` may return a
 * promise: while it runs the buttons are disabled; a rejection shows its message (through
 * `describeError`) and keeps the dialog open, so the user can correct the input.
 */
export function openDialog(host, { title, text, fields = [], submit, image }, onSubmit, describeError) {
  const dialog = document.createElement("dialog");
  dialog.className = "anpr-dialog";
  const picture = image ? `<img class="full" src="${escape(image)}" alt="">` : "";
  const buttons = onSubmit
    ? `<button type="button" class="cancel">${escape(STRINGS.actions.cancel)}</button>
       <button type="submit" class="primary">${escape(submit)}</button>`
    : `<button type="button" class="cancel">${escape(STRINGS.actions.close)}</button>`;
  dialog.innerHTML = `<form>
      <h3>${escape(title)}</h3>
      ${text ? `<p>${escape(text)}</p>` : ""}${picture}
      ${fields.map(renderField).join("")}
      <p class="error" role="alert" hidden></p>
      <div class="buttons">${buttons}</div>
    </form>`;
  host.appendChild(dialog);
  const form = dialog.querySelector("form");
  const error = dialog.querySelector(".error");
  dialog.querySelector(".cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!onSubmit) return;
    const buttonsEls = dialog.querySelectorAll("button");
    buttonsEls.forEach((b) => (b.disabled = true));
    error.hidden = true;
    try {
      await onSubmit(readValues(form, fields));
      dialog.close();
    } catch (err) {
      error.textContent = describeError ? describeError(err) : String(err?.message ?? err);
      error.hidden = false;
    } finally {
      buttonsEls.forEach((b) => (b.disabled = false));
    }
  });
  dialog.showModal();
  const first = dialog.querySelector("input, select, textarea");
  if (first) first.focus();
  return dialog;
}
