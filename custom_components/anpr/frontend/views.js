// The card's three views as HTML: pure functions of the data, so the card re-renders a view
// by replacing its content. Every value from the server goes through `escape`.
import { escape } from "./dialogs.js";
import { STRINGS, format } from "./strings.js";
import { renderFilters } from "./visit-list.js";

/** Format an ISO time for people, in the user's language. */
export function when(iso, language, dateStyle = "medium") {
  if (!iso) return "";
  return new Date(iso).toLocaleString(language, { dateStyle, timeStyle: "short" });
}

function chip(category, label) {
  return `<span class="chip cat-${escape(category)}">${escape(label)}</span>`;
}

function visitPictures(visit) {
  const crop = visit.crop
    ? `<img class="crop" src="${escape(visit.crop)}" alt="${escape(visit.plate)}">`
    : "";
  const snapshot = visit.snapshot
    ? `<img class="snapshot" src="${escape(visit.snapshot)}" alt="" data-action="picture" data-id="${escape(visit.id)}">`
    : "";
  if (!crop && !snapshot) return `<div class="pictures none">${escape(STRINGS.no_picture)}</div>`;
  return `<div class="pictures">${snapshot}${crop}</div>`;
}

function visitActions(visit, ctx) {
  // Only for a car that is still unknown: once registered (from here or elsewhere), the
  // registry's Plates view is where it is changed.
  if (visit.category !== "unknown" || !ctx.isAdmin || ctx.registered(visit.plate)) return "";
  const button = (action) =>
    `<button class="action" data-action="${action}" data-id="${escape(visit.id)}">${escape(STRINGS.actions[action])}</button>`;
  return `<div class="actions">${["add_resident", "give_pass", "block", "open_gate"].map(button).join("")}</div>`;
}

/** The Visits view: filters, then newest first: pictures, decision, actions for unknown cars. */
export function renderVisits(state, ctx) {
  const filters = renderFilters(state, ctx);
  if (!state.visits.length) {
    const filtered = state.filters.camera || state.filters.category;
    return `${filters}<p class="empty">${escape(filtered ? STRINGS.no_matching_visits : STRINGS.no_visits)}</p>`;
  }
  const rows = state.visits.map((visit) => {
    const gate = visit.gate_opened
      ? ` · <span class="gate">${escape(STRINGS.gate_opened)}${visit.forced ? ` (${escape(STRINGS.forced)})` : ""}</span>`
      : "";
    const owner = visit.owner ? `<span class="owner">${escape(visit.owner)}</span>` : "";
    return `<li class="visit" data-id="${escape(visit.id)}">
        ${visitPictures(visit)}
        <div class="info">
          <div class="line"><span class="plate">${escape(visit.plate)}</span>${chip(visit.category, ctx.category(visit.category))}${owner}</div>
          <div class="meta">${escape(visit.camera_name)} · ${escape(when(visit.time, ctx.language))}${gate}</div>
          <div class="reason">${escape(visit.reason)}</div>
          ${visitActions(visit, ctx)}
        </div>
      </li>`;
  });
  const more = state.more
    ? `<button class="more" data-action="more">${escape(STRINGS.more)}</button>`
    : "";
  return `${filters}<ul class="visits">${rows.join("")}</ul>${more}`;
}

function passSummary(plate, language) {
  // Compact: the Passes view has the full window.
  if (!plate.valid_until) return "";
  const state = STRINGS.pass_states[plate.pass] || plate.pass;
  const until = escape(format(STRINGS.until, { time: when(plate.valid_until, language, "short") }));
  const left = plate.entries_left === null || plate.entries_left === undefined
    ? ""
    : ` · ${escape(format(STRINGS.entries_left, { left: plate.entries_left, max: plate.max_entries ?? plate.entries_left }))}`;
  return `<span class="pass-${escape(plate.pass)}">${escape(state)}</span>${left}<br>${until}`;
}

function entries(plate) {
  if (!plate.valid_until) return "";
  if (plate.entries_left === null || plate.entries_left === undefined) return escape(STRINGS.unlimited);
  return `${plate.entries_left} / ${plate.max_entries ?? plate.entries_left}`;
}

function matches(plate, search) {
  if (!search) return true;
  const needle = search.toLowerCase();
  return [plate.plate, plate.name, plate.notes, plate.category]
    .some((value) => String(value ?? "").toLowerCase().includes(needle));
}

/** The rows of the Plates view's table, filtered by the search text. */
export function renderPlateRows(state, ctx) {
  const plates = state.plates.filter((plate) => matches(plate, state.search));
  if (!plates.length) return `<p class="empty">${escape(STRINGS.no_plates)}</p>`;
  const c = STRINGS.columns;
  const head = [c.plate, c.owner, c.category, c.pass, c.last_seen, ""]
    .map((text) => `<th>${escape(text)}</th>`)
    .join("");
  const rows = plates.map((plate) => {
    const buttons = ctx.isAdmin
      ? `<button class="small" data-action="edit" data-plate="${escape(plate.plate)}">${escape(STRINGS.actions.edit)}</button>
         <button class="small" data-action="remove" data-plate="${escape(plate.plate)}">${escape(STRINGS.actions.remove)}</button>`
      : "";
    return `<tr data-plate="${escape(plate.plate)}">
        <td class="plate">${escape(plate.plate)}</td><td>${escape(plate.name)}</td>
        <td>${chip(plate.category, ctx.category(plate.category))}</td>
        <td class="pass">${passSummary(plate, ctx.language)}</td>
        <td>${escape(plate.last_seen ? when(plate.last_seen, ctx.language, "short") : STRINGS.never)}</td>
        <td class="buttons">${buttons}</td>
      </tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The Plates view: a search field, the table, an Add button. */
export function renderPlates(state, ctx) {
  const add = ctx.isAdmin
    ? `<button class="action" data-action="add_plate">${escape(STRINGS.actions.add_plate)}</button>`
    : "";
  return `<div class="toolbar"><input type="search" class="search" placeholder="${escape(STRINGS.search)}" value="${escape(state.search)}">${add}</div>
    <div class="table">${renderPlateRows(state, ctx)}</div>`;
}

/** The Passes view: visitor passes valid now or later, soonest first. */
export function renderPasses(state, ctx) {
  const passes = state.plates
    .filter((plate) => plate.pass === "valid" || plate.pass === "pending")
    .sort((a, b) => String(a.valid_from).localeCompare(String(b.valid_from)));
  const add = ctx.isAdmin
    ? `<div class="toolbar"><button class="action" data-action="new_pass">${escape(STRINGS.actions.new_pass)}</button></div>`
    : "";
  if (!passes.length) return `${add}<p class="empty">${escape(STRINGS.no_passes)}</p>`;
  const c = STRINGS.columns;
  const head = [c.plate, c.owner, c.from, c.until, c.entries, c.issued_by]
    .map((text) => `<th>${escape(text)}</th>`)
    .join("");
  const rows = passes.map(
    (plate) => `<tr data-plate="${escape(plate.plate)}">
        <td class="plate">${escape(plate.plate)}<br><span class="pass-${escape(plate.pass)}">${escape(STRINGS.pass_states[plate.pass])}</span></td>
        <td>${escape(plate.name)}</td>
        <td>${escape(when(plate.valid_from, ctx.language, "short"))}</td>
        <td>${escape(when(plate.valid_until, ctx.language, "short"))}</td>
        <td>${entries(plate)}</td><td>${escape(plate.created_by ?? "")}</td>
      </tr>`,
  );
  return `${add}<table><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export { format };
