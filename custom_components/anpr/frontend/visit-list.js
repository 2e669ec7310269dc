// The Visits view's list beyond rendering: its filters (camera, category, as anpr/visits/list
// takes them) and keeping its pictures' addresses fresh. The server signs each picture's
// address for a limited time (websocket.py), so a card left open longer would show broken
// pictures; a picture that fails to load makes the card fetch the list again, once per visit
// (a picture missing for good must not make it fetch forever).
import { escape } from "./dialogs.js";
import { STRINGS } from "./strings.js";

export const CATEGORIES = ["resident", "visitor", "unknown", "blocked"];

/** The filters set, as fields of anpr/visits/list. */
export function filterParams(filters) {
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
}

/** Whether a live visit belongs in the list as it is filtered. */
export function matchesFilters(visit, filters) {
  return (
    (!filters.camera || visit.camera === filters.camera) &&
    (!filters.category || visit.category === filters.category)
  );
}

/** Remember each camera seen in a visit (entity id to name): the camera filter offers them. */
export function rememberCameras(cameras, visits) {
  for (const visit of visits) cameras[visit.camera] = visit.camera_name;
}

function option(value, label, selected) {
  return `<option value="${escape(value)}"${selected ? " selected" : ""}>${escape(label)}</option>`;
}

/** The filter controls above the list. */
export function renderFilters(state, ctx) {
  const { camera, category } = state.filters;
  const cameras = Object.entries(state.cameras)
    .sort(([, a], [, b]) => String(a).localeCompare(String(b)))
    .map(([id, name]) => option(id, name, id === camera));
  const categories = CATEGORIES.map((value) => option(value, ctx.category(value), value === category));
  const select = (name, all, options) =>
    `<label>${escape(STRINGS.filters[name])}<select class="filter" name="${name}">${option("", all, false)}${options.join("")}</select></label>`;
  return `<div class="toolbar filters">${select("camera", STRINGS.filters.all_cameras, cameras)}${select("category", STRINGS.filters.all_categories, categories)}</div>`;
}

/** Call `refresh` when a visit's picture fails to load: once per visit, one fetch at a time. */
export function refreshOnBrokenPicture(root, refresh) {
  const retried = new Set();
  let running = false;
  // `error` does not bubble: listen while it travels down (capture).
  root.addEventListener(
    "error",
    async (event) => {
      const id = event.target.closest?.("li.visit")?.dataset.id;
      if (event.target.tagName !== "IMG" || !id || retried.has(id)) return;
      retried.add(id);
      if (running) return;
      running = true;
      try {
        await refresh();
      } finally {
        running = false;
      }
    },
    true,
  );
}
