// The card's styles: Home Assistant's theme variables throughout, so it follows any theme.
export const STYLES = `
  :host { display: block; }
  ha-card, .card { padding: 0 0 8px; overflow: hidden; }
  .header { display: flex; align-items: center; justify-content: space-between; padding: 12px 16px 0; }
  .header h2 { margin: 0; font-size: var(--ha-card-header-font-size, 24px); font-weight: 400; color: var(--ha-card-header-color, var(--primary-text-color)); }
  .tabs { display: flex; gap: 4px; padding: 8px 16px; border-bottom: 1px solid var(--divider-color); }
  .tabs button { background: none; border: none; border-bottom: 2px solid transparent; padding: 6px 10px; cursor: pointer; color: var(--secondary-text-color); font: inherit; }
  .tabs button[aria-selected="true"] { color: var(--primary-color); border-bottom-color: var(--primary-color); }
  .content { padding: 8px 16px; color: var(--primary-text-color); }
  .empty, .status { color: var(--secondary-text-color); }
  ul.visits { list-style: none; margin: 0; padding: 0; }
  li.visit { display: flex; gap: 12px; padding: 8px 0; border-bottom: 1px solid var(--divider-color); }
  .pictures { display: flex; flex-direction: column; gap: 4px; width: 128px; flex: none; }
  .pictures.none { height: 48px; align-items: center; justify-content: center; font-size: 12px; color: var(--secondary-text-color); background: var(--secondary-background-color); border-radius: 4px; }
  .pictures img { width: 128px; border-radius: 4px; object-fit: cover; }
  .pictures img.snapshot { height: 72px; cursor: zoom-in; }
  .pictures img.crop { height: 32px; object-fit: contain; background: #000; }
  .info { flex: 1; min-width: 0; }
  .line { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .plate { font-family: var(--code-font-family, monospace); font-weight: 600; letter-spacing: 0.05em; }
  .meta, .reason { font-size: 13px; color: var(--secondary-text-color); }
  .chip { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: var(--text-primary-color, #fff); background: var(--disabled-color, #888); }
  .chip.cat-resident { background: var(--success-color, #4caf50); }
  .chip.cat-visitor { background: var(--info-color, #039be5); }
  .chip.cat-blocked { background: var(--error-color, #db4437); }
  .chip.cat-unknown { background: var(--warning-color, #ffa600); }
  .actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
  button.action, button.more, button.small, .buttons button { font: inherit; font-size: 13px; cursor: pointer; border-radius: 4px; padding: 4px 10px; border: 1px solid var(--primary-color); background: none; color: var(--primary-color); }
  button.small { padding: 2px 6px; font-size: 12px; }
  button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  button.more { margin-top: 8px; width: 100%; }
  .toolbar { display: flex; gap: 8px; margin-bottom: 8px; }
  .toolbar input { flex: 1; }
  .filters label { display: flex; flex: 1; flex-direction: column; gap: 2px; font-size: 0.85em; }
  input, select, textarea { font: inherit; padding: 6px; border: 1px solid var(--divider-color); border-radius: 4px; background: var(--card-background-color, var(--ha-card-background)); color: var(--primary-text-color); box-sizing: border-box; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  td.pass { font-size: 12px; }
  th { text-align: left; font-weight: 500; color: var(--secondary-text-color); border-bottom: 1px solid var(--divider-color); padding: 4px; }
  td.plate, th:first-child { white-space: nowrap; }
  td { padding: 4px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
  td.buttons { text-align: right; }
  td.buttons button { display: block; margin: 2px 0 2px auto; }
  .table, .content > table { overflow-x: auto; }
  td.plate span { font-family: var(--paper-font-body1_-_font-family, inherit); font-weight: 400; font-size: 12px; letter-spacing: 0; }
  .pass-valid { color: var(--success-color, #4caf50); }
  .pass-pending { color: var(--info-color, #039be5); }
  .pass-expired, .pass-used_up { color: var(--secondary-text-color); }
  .gate { color: var(--primary-color); }
  .toast { margin: 8px 16px 0; padding: 6px 10px; border-radius: 4px; background: var(--secondary-background-color); font-size: 13px; }
  dialog { border: none; border-radius: var(--ha-card-border-radius, 12px); padding: 16px 20px; min-width: 300px; max-width: 90vw; background: var(--card-background-color, #fff); color: var(--primary-text-color); box-shadow: 0 8px 24px rgba(0, 0, 0, 0.3); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.4); }
  dialog h3 { margin: 0 0 12px; font-weight: 500; }
  dialog .field { display: flex; flex-direction: column; gap: 2px; margin-bottom: 10px; }
  dialog label { font-size: 13px; color: var(--secondary-text-color); }
  dialog .error { color: var(--error-color, #db4437); font-size: 14px; }
  dialog .buttons { display: flex; justify-content: flex-end; gap: 8px; }
  dialog img.full { max-width: 80vw; max-height: 70vh; display: block; margin: 0 auto 12px; }
`;
