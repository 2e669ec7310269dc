// custom:anpr-card: recent visits with pictures, the plate registry and visitor passes of an
// ANPR entry. A standard web component without a build step, served and loaded by the
// integration (frontend.py); it talks to the integration's websocket API (websocket.py), so
// every change gets the same validation and translated errors as the actions.
import "./anpr-card-editor.js";
import { escape, isoToLocal, openDialog } from "./dialogs.js";
import { STRINGS, format } from "./strings.js";
import { STYLES } from "./styles.js";
import { filterParams, matchesFilters, refreshOnBrokenPicture, rememberCameras } from "./visit-list.js";
import { renderPasses, renderPlateRows, renderPlates, renderVisits } from "./views.js";

const VIEWS = ["visits", "plates", "passes"];
const PAGE = 25;
const MAX_PAGE = 200; // websocket.py's MAX_PAGE
const emptyState = () => ({
  visits: [], more: false, plates: [], search: "", filters: { camera: "", category: "" }, cameras: {},
});
const RENDERERS = { visits: renderVisits, plates: renderPlates, passes: renderPasses };

class AnprCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._state = emptyState();
    this.shadowRoot.addEventListener("click", (event) => this._onClick(event));
    this.shadowRoot.addEventListener("input", (event) => this._onInput(event));
    this.shadowRoot.addEventListener("change", (event) => this._onFilter(event));
    // Pictures are signed for a limited time: a broken one gets the list (and new addresses).
    refreshOnBrokenPicture(this.shadowRoot, () => this._refreshVisits());
  }

  static getConfigElement() {
    return document.createElement("anpr-card-editor");
  }

  static getStubConfig() {
    return { views: [...VIEWS] };
  }

  setConfig(config) {
    const views = config.views ?? VIEWS;
    if (!Array.isArray(views) || !views.length || views.some((view) => !VIEWS.includes(view))) {
      throw new Error(`views must be a list of ${VIEWS.join(", ")}`);
    }
    const entryChanged = this._config && this._config.entry_id !== config.entry_id;
    this._config = { ...config, views };
    if (!views.includes(this._view)) this._view = views[0];
    if (entryChanged) this._restart();
    else this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    const relocalized = this._hass && this._hass.localize !== hass.localize;
    this._hass = hass;
    if (first && this.isConnected) this._start();
    else if (relocalized) this._renderContent();
  }

  get hass() {
    return this._hass;
  }

  connectedCallback() {
    if (this._hass && !this._unsubscribe) this._start();
  }

  disconnectedCallback() {
    this._stop();
  }

  getCardSize() {
    return 8;
  }

  // --- data ---------------------------------------------------------------------------

  async _start() {
    if (!this._config || this._starting) return;
    this._starting = true;
    try {
      this._entryId = this._config.entry_id || (await this._firstEntry());
      this._render();
      if (!this._entryId) return;
      this._hass.loadBackendTranslation?.("selector", "anpr");
      this._hass.loadBackendTranslation?.("exceptions", "anpr");
      await Promise.all([this._loadVisits(), this._loadPlates()]);
      const connection = this._hass.connection;
      const visits = await connection.subscribeMessage((event) => this._onVisit(event.visit), {
        type: "anpr/visits/subscribe",
        entry_id: this._entryId,
      });
      // Whoever changes the registry (an action, another card), Plates and Passes follow.
      const plates = await connection.subscribeMessage(() => this._loadPlates(), {
        type: "anpr/plates/subscribe",
        entry_id: this._entryId,
      });
      this._unsubscribe = () => {
        visits();
        plates();
      };
    } catch (err) {
      this._error = this._describe(err);
      this._render();
    } finally {
      this._starting = false;
    }
  }

  _stop() {
    if (this._unsubscribe) this._unsubscribe();
    this._unsubscribe = undefined;
  }

  _restart() {
    this._stop();
    this._state = emptyState();
    if (this._hass && this.isConnected) this._start();
  }

  async _firstEntry() {
    const entries = await this._hass.callWS({ type: "config_entries/get", domain: "anpr" });
    return entries.length ? entries[0].entry_id : undefined;
  }

  _ws(type, data = {}) {
    return this._hass.callWS({ type, entry_id: this._entryId, ...data });
  }

  async _loadVisits(before, limit = PAGE) {
    const query = { limit, ...filterParams(this._state.filters), ...(before ? { before } : {}) };
    const page = await this._ws("anpr/visits/list", query);
    rememberCameras(this._state.cameras, page.visits);
    this._state.visits = before ? [...this._state.visits, ...page.visits] : page.visits;
    this._state.more = page.more;
    this._loaded = true;
    this._renderContent();
  }

  /** Fetch the visits shown again (as many as are shown): their pictures' addresses renewed. */
  async _refreshVisits() {
    const shown = Math.min(MAX_PAGE, Math.max(PAGE, this._state.visits.length));
    try {
      await this._loadVisits(undefined, shown);
    } catch (err) {
      this._toast(this._describe(err));
    }
  }

  async _loadPlates() {
    this._state.plates = (await this._ws("anpr/plates/list")).plates;
    this._renderContent();
  }

  _onVisit(visit) {
    rememberCameras(this._state.cameras, [visit]); // the camera filter offers it
    if (matchesFilters(visit, this._state.filters)) {
      const visits = this._state.visits.filter((known) => known.id !== visit.id);
      const index = this._state.visits.findIndex((known) => known.id === visit.id);
      if (index >= 0) visits.splice(index, 0, visit);
      else visits.unshift(visit);
      this._state.visits = visits;
    }
    this._renderContent();
    if (visit.matched_plate) this._loadPlates(); // its "last seen"
  }

  // --- rendering ----------------------------------------------------------------------

  _context() {
    return {
      language: this._hass?.locale?.language || this._hass?.language || navigator.language,
      isAdmin: Boolean(this._hass?.user?.is_admin),
      category: (category) => this._category(category),
      registered: (plate) => this._state.plates.some((known) => known.plate === plate),
    };
  }

  _category(category) {
    const key = `component.anpr.selector.category.options.${category}`;
    return this._hass?.localize?.(key) || STRINGS.categories[category] || category;
  }

  _render() {
    if (!this._config) return;
    const views = this._config.views;
    const tabs = views.length > 1
      ? `<div class="tabs" role="tablist">${views
          .map((view) => `<button role="tab" data-action="view" data-view="${view}" aria-selected="${view === this._view}">${escape(STRINGS.views[view])}</button>`)
          .join("")}</div>`
      : "";
    const title = this._config.title ?? STRINGS.title;
    this.shadowRoot.innerHTML = `<style>${STYLES}</style>
      <ha-card><div class="header"><h2>${escape(title)}</h2></div>${tabs}
        <div class="toast" hidden></div><div class="content"></div></ha-card>`;
    this._renderContent();
  }

  _renderContent() {
    const content = this.shadowRoot.querySelector(".content");
    if (!content) return;
    content.dataset.view = this._view;
    if (this._error) content.innerHTML = `<p class="status">${escape(this._error)}</p>`;
    else if (this._hass && !this._starting && !this._entryId) content.innerHTML = `<p class="status">${escape(STRINGS.no_entry)}</p>`;
    else if (!this._loaded) content.innerHTML = `<p class="status">${escape(STRINGS.loading)}</p>`;
    else if (this._view === "plates" && content.querySelector("input.search")) {
      content.querySelector(".table").innerHTML = renderPlateRows(this._state, this._context());
    } else content.innerHTML = RENDERERS[this._view](this._state, this._context());
  }

  _toast(text) {
    const toast = this.shadowRoot.querySelector(".toast");
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(this._toastTimer);
    this._toastTimer = setTimeout(() => (toast.hidden = true), 5000);
  }

  _describe(err) {
    if (err?.translation_key && err.translation_domain === "anpr") {
      const key = `component.anpr.exceptions.${err.translation_key}.message`;
      const text = this._hass?.localize?.(key, err.translation_placeholders ?? {});
      if (text) return text;
    }
    return err?.message ?? String(err);
  }

  // --- events -------------------------------------------------------------------------

  _onInput(event) {
    if (!event.target.matches("input.search")) return;
    this._state.search = event.target.value;
    this._renderContent();
  }

  async _onFilter(event) {
    if (!event.target.matches("select.filter")) return;
    this._state.filters[event.target.name] = event.target.value;
    try {
      await this._loadVisits();
    } catch (err) {
      this._toast(this._describe(err));
    }
  }

  _onClick(event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const action = target.dataset.action;
    const visit = this._state.visits.find((known) => known.id === target.dataset.id);
    const plate = this._state.plates.find((known) => known.plate === target.dataset.plate);
    const handlers = {
      view: () => this._showView(target.dataset.view),
      more: () => this._loadVisits(this._state.visits.at(-1)?.id),
      picture: () => this._showPicture(visit),
      add_resident: () => this._register(visit, "resident", "add_resident", ""),
      block: () => this._register(visit, "blocked", "block", STRINGS.blocked_name),
      give_pass: () => this._givePass(visit?.plate ?? ""),
      new_pass: () => this._givePass(""),
      open_gate: () => this._openGate(visit),
      add_plate: () => this._editPlate(),
      edit: () => this._editPlate(plate),
      remove: () => this._removePlate(plate),
    };
    handlers[action]?.();
  }

  _showView(view) {
    this._view = view;
    this._render();
  }

  _dialog(options, onSubmit) {
    return openDialog(this.shadowRoot, options, onSubmit, (err) => this._describe(err));
  }

  async _changed(promise) {
    await promise;
    await this._loadPlates(); // also on the subscription's event; now, so the dialog shows it
  }

  _showPicture(visit) {
    this._dialog({ title: `${visit.plate} · ${visit.camera_name}`, image: visit.snapshot });
  }

  _register(visit, category, action, name) {
    const fields = [
      { name: "name", label: STRINGS.fields.name, value: visit.owner ?? name, required: true },
      { name: "notes", label: STRINGS.fields.notes, type: "textarea", value: "" },
    ];
    const title = format(STRINGS.dialogs[action], { plate: visit.plate });
    this._dialog({ title, fields, submit: STRINGS.actions[action] }, (values) =>
      this._changed(this._ws("anpr/plates/add", { plate: visit.plate, category, ...values })),
    );
  }

  _givePass(plateText) {
    const durations = Object.entries(STRINGS.durations).map(([hours, text]) => [hours, text]);
    const fields = [
      ...(plateText ? [] : [{ name: "plate", label: STRINGS.fields.plate, value: "", required: true }]),
      { name: "name", label: STRINGS.fields.name, value: "", required: true },
      { name: "duration", label: STRINGS.fields.duration, type: "select", options: durations, value: "4" },
      { name: "max_entries", label: STRINGS.fields.max_entries, type: "number", min: 1, value: "" },
    ];
    const title = plateText ? format(STRINGS.dialogs.give_pass, { plate: plateText }) : STRINGS.dialogs.new_pass;
    this._dialog({ title, fields, submit: STRINGS.actions.give_pass }, (values) => {
      const data = { plate: plateText || values.plate, name: values.name, duration: { hours: Number(values.duration) } };
      if (values.max_entries !== null) data.max_entries = values.max_entries;
      return this._changed(this._ws("anpr/passes/add", data));
    });
  }

  _openGate(visit) {
    const text = format(STRINGS.dialogs.open_gate, { camera: visit.camera_name, plate: visit.plate });
    this._dialog({ title: STRINGS.actions.open_gate, text, submit: STRINGS.actions.confirm }, async () => {
      await this._hass.callService("anpr", "open_gate", { camera: visit.camera, plate: visit.plate, force: true });
      this._toast(format(STRINGS.gate_done, { camera: visit.camera_name }));
    });
  }

  _editPlate(plate) {
    const categories = ["resident", "visitor", "blocked"].map((c) => [c, this._category(c)]);
    const fields = [
      { name: "plate", label: STRINGS.fields.plate, value: plate?.plate ?? "", required: true },
      { name: "name", label: STRINGS.fields.name, value: plate?.name ?? "", required: true },
      { name: "category", label: STRINGS.fields.category, type: "select", options: categories, value: plate?.category ?? "resident" },
      { name: "notes", label: STRINGS.fields.notes, type: "textarea", value: plate?.notes ?? "" },
    ];
    if (plate?.category === "visitor") {
      fields.push(
        { name: "valid_from", label: STRINGS.fields.valid_from, type: "datetime", value: isoToLocal(plate.valid_from) },
        { name: "valid_until", label: STRINGS.fields.valid_until, type: "datetime", value: isoToLocal(plate.valid_until) },
        { name: "entries_left", label: STRINGS.fields.entries_left, type: "number", value: plate.entries_left ?? "" },
      );
    }
    const title = plate ? format(STRINGS.dialogs.edit, { plate: plate.plate }) : STRINGS.dialogs.add_plate;
    this._dialog({ title, fields, submit: STRINGS.actions.save }, (values) => {
      if (!plate) return this._changed(this._ws("anpr/plates/add", values));
      const { plate: newPlate, ...rest } = values;
      return this._changed(this._ws("anpr/plates/update", { plate: plate.plate, new_plate: newPlate, ...rest }));
    });
  }

  _removePlate(plate) {
    const text = format(STRINGS.dialogs.remove, { plate: plate.plate, name: plate.name });
    this._dialog({ title: STRINGS.actions.remove, text, submit: STRINGS.actions.remove }, () =>
      this._changed(this._ws("anpr/plates/remove", { plate: plate.plate })),
    );
  }
}

if (!customElements.get("anpr-card")) {
  customElements.define("anpr-card", AnprCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "anpr-card",
    name: "ANPR",
    description: "Recent visits with pictures, registered plates and visitor passes.",
    preview: false,
    documentationURL: "https://github.com/anpr-ha/anpr#the-dashboard-card",
  });
}
