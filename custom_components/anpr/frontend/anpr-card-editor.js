// The card's editor in the dashboard's card dialog: which ANPR entry, which views, a title.
// Plain form elements (no internal Home Assistant elements); every change fires
// `config-changed`, as Home Assistant's card editors expect.
import { escape } from "./dialogs.js";
import { STRINGS } from "./strings.js";

const VIEWS = ["visits", "plates", "passes"];

class AnprCardEditor extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._entries = [];
    this.shadowRoot.addEventListener("change", () => this._changed());
  }

  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) this._loadEntries();
  }

  async _loadEntries() {
    try {
      this._entries = await this._hass.callWS({ type: "config_entries/get", domain: "anpr" });
    } catch (err) {
      this._entries = [];
    }
    this._render();
  }

  _render() {
    if (!this._config) return;
    const entry = this._config.entry_id ?? "";
    const views = this._config.views ?? VIEWS;
    const options = [["", STRINGS.editor.first_entry], ...this._entries.map((e) => [e.entry_id, e.title])]
      .map(([value, text]) => `<option value="${escape(value)}"${value === entry ? " selected" : ""}>${escape(text)}</option>`)
      .join("");
    const checks = VIEWS.map(
      (view) => `<label><input type="checkbox" name="view" value="${view}"${views.includes(view) ? " checked" : ""}> ${escape(STRINGS.views[view])}</label>`,
    ).join("");
    this.shadowRoot.innerHTML = `<style>
        .field { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; }
        .views { display: flex; gap: 16px; }
        select, input[type=text] { font: inherit; padding: 6px; }
      </style>
      <div class="field"><label for="entry">${escape(STRINGS.editor.entry)}</label><select id="entry">${options}</select></div>
      <div class="field"><span>${escape(STRINGS.editor.views)}</span><div class="views">${checks}</div></div>
      <div class="field"><label for="title">${escape(STRINGS.editor.title)}</label>
        <input id="title" type="text" value="${escape(this._config.title ?? "")}" placeholder="${escape(STRINGS.title)}"></div>`;
  }

  _changed() {
    const root = this.shadowRoot;
    const views = [...root.querySelectorAll("input[name=view]:checked")].map((box) => box.value);
    const config = { ...this._config, views: views.length ? views : [VIEWS[0]] };
    const entry = root.getElementById("entry").value;
    const title = root.getElementById("title").value.trim();
    if (entry) config.entry_id = entry;
    else delete config.entry_id;
    if (title) config.title = title;
    else delete config.title;
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }
}

if (!customElements.get("anpr-card-editor")) customElements.define("anpr-card-editor", AnprCardEditor);
