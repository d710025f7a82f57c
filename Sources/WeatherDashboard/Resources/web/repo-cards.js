/*
 * Repository cards: one per repository, each loading /api/repos/{owner}/{name} on its own (a card can be
 * retried or removed while the others load).
 */

import { badgesFor, showAlert } from './alerts.js';
import { getJSON, isAbort } from './api.js';
import { $, append, clear, h, timeElement } from './dom.js';
import { dateFormat, formatCount, formatPercent, isNumber, parseDate, relativeTime, retryPhrase, safeColor, safeHttpUrl, timeFormat } from './format.js';
import { parseRepoInput } from './input.js';
import { problemMessage } from './problems.js';

const DEFAULT_REPOS = ['apple/swift-nio', 'swift-server/async-http-client'];
let problemTypes = null; // problem-types.json

const repos = new Map(); // lower-case "owner/name" → {spec, card, controller}
let repoCounter = 0;

function updateRepoListBusy() {
  const busy = Array.from(repos.values()).some((entry) => entry.controller !== null);
  $('repo-list').setAttribute('aria-busy', busy ? 'true' : 'false');
}

function skeleton() {
  return h('div', { class: 'skeleton', 'aria-hidden': 'true' },
    h('span', { class: 'skeleton-line skeleton-title' }),
    h('span', { class: 'skeleton-line' }),
    h('span', { class: 'skeleton-line skeleton-short' }),
    h('span', { class: 'skeleton-block' }));
}

function addRepo(repo, options = {}) {
  const key = repo.spec.toLowerCase();
  const existing = repos.get(key);
  if (existing) {
    loadRepo(existing);
    if (options.focus) existing.card.focus();
    return existing;
  }
  repoCounter += 1;
  const card = h('article', {
    class: 'repo-card card',
    'data-repo': repo.spec,
    'aria-busy': 'true',
    'aria-labelledby': `repo-title-${repoCounter}`,
    tabindex: '-1',
  });
  const entry = { ...repo, card, controller: null, id: repoCounter };
  repos.set(key, entry);
  // Cards the user adds go first, where they can see them; the defaults keep their order.
  if (options.prepend) $('repo-list').prepend(card);
  else $('repo-list').appendChild(card);
  loadRepo(entry);
  if (options.focus) card.focus();
  return entry;
}

function removeRepo(entry) {
  if (entry.controller) entry.controller.abort();
  entry.controller = null;
  repos.delete(entry.spec.toLowerCase());
  entry.card.remove();
  updateRepoListBusy();
  $('repo-input').focus();
}

function cardHeader(entry, titleContent, badges) {
  const remove = h('button', {
    type: 'button',
    class: 'icon-button repo-remove',
    'aria-label': `Remove ${entry.spec}`,
    title: `Remove ${entry.spec}`,
  }, '\u00D7');
  remove.addEventListener('click', () => removeRepo(entry));
  return h('div', { class: 'card-head repo-card-head' },
    h('h3', { id: `repo-title-${entry.id}`, class: 'repo-title' }, titleContent),
    h('div', { class: 'badges' }, badges || []),
    remove);
}

async function loadRepo(entry) {
  if (entry.controller) entry.controller.abort();
  const controller = new AbortController();
  entry.controller = controller;
  const card = entry.card;
  card.setAttribute('aria-busy', 'true');
  card.classList.add('is-loading');
  if (!card.firstChild || card.classList.contains('has-error')) {
    card.classList.remove('has-error');
    clear(card);
    append(card, [
      cardHeader(entry, entry.spec),
      h('p', { class: 'loading-indicator' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${entry.spec}\u2026`),
      skeleton(),
    ]);
  }
  updateRepoListBusy();

  const url = `/api/repos/${encodeURIComponent(entry.owner)}/${encodeURIComponent(entry.name)}`;
  let result;
  try {
    result = await getJSON(url, controller.signal);
  } catch (error) {
    if (isAbort(error)) return; // the card was removed or reloaded
    throw error;
  }
  if (controller !== entry.controller) return;
  entry.controller = null;
  card.setAttribute('aria-busy', 'false');
  card.classList.remove('is-loading');
  if (result.status === 200 && result.body && typeof result.body.nameWithOwner === 'string') {
    renderRepoCard(entry, result.body);
  } else {
    renderRepoProblem(entry, result);
  }
  updateRepoListBusy();
}

function renderRepoProblem(entry, result) {
  const card = entry.card;
  card.classList.add('has-error');
  clear(card);
  card.appendChild(cardHeader(entry, entry.spec));
  const message = problemMessage(result, { service: 'GitHub', repo: entry.spec }, problemTypes);
  const area = h('div', { class: 'message-area' });
  card.appendChild(area);
  const actions = message.retryable ? [{ label: 'Try again', onClick: () => loadRepo(entry) }] : [];
  showAlert(area, message, actions);
}

function stat(label, value, className) {
  return h('div', { class: 'stat' },
    h('dt', null, label),
    h('dd', { class: className, 'data-value': isNumber(value) ? value : '' }, formatCount(value)));
}

function languageSection(repo) {
  const languages = Array.isArray(repo.languages) ? repo.languages.filter((l) => l && isNumber(l.percent)) : [];
  if (!languages.length) return null;
  const summary = languages.map((l) => `${l.name} ${formatPercent(l.percent)}`).join(', ');
  const bar = h('div', { class: 'lang-bar', role: 'img', 'aria-label': `Languages: ${summary}` });
  const legend = h('ul', { class: 'lang-legend' });
  for (const language of languages) {
    const color = safeColor(language.color, '#6b7280');
    const segment = h('span', { class: 'lang-segment', title: `${language.name} ${formatPercent(language.percent)}` });
    segment.style.width = `${Math.max(0, Math.min(100, language.percent))}%`;
    segment.style.backgroundColor = color;
    bar.appendChild(segment);
    const dot = h('span', { class: 'lang-dot', 'aria-hidden': 'true' });
    dot.style.backgroundColor = color;
    legend.appendChild(h('li', null, dot, h('span', { class: 'lang-name' }, language.name),
      h('span', { class: 'lang-percent' }, formatPercent(language.percent))));
  }
  return h('section', { class: 'repo-section repo-languages' },
    h('h4', null, 'Languages'), bar, legend);
}

function releaseSection(repo) {
  const release = repo.latestRelease;
  if (!release || !release.tagName) return null;
  const published = parseDate(release.publishedAt);
  const url = safeHttpUrl(release.url);
  const tag = url ? h('a', { href: url, class: 'release-tag' }, release.tagName) : h('span', { class: 'release-tag' }, release.tagName);
  return h('p', { class: 'repo-release' },
    h('span', { class: 'meta-label' }, 'Latest release'), ' ', tag,
    release.name && release.name !== release.tagName ? h('span', { class: 'release-name' }, ` \u201C${release.name}\u201D`) : null,
    published ? [' \u00B7 ', timeElement(published, `${dateFormat.format(published)} (${relativeTime(published)})`)] : null);
}

function commitsSection(repo) {
  const commits = Array.isArray(repo.recentCommits) ? repo.recentCommits.slice(0, 5) : [];
  if (!commits.length) return null;
  const list = h('ol', { class: 'commit-list' });
  for (const commit of commits) {
    const oid = typeof commit.oid === 'string' ? commit.oid.slice(0, 7) : '';
    const url = safeHttpUrl(commit.url);
    const oidNode = url
      ? h('a', { href: url, class: 'commit-oid', 'aria-label': `Commit ${oid}` }, h('code', null, oid))
      : h('code', { class: 'commit-oid' }, oid);
    const when = parseDate(commit.committedAt);
    list.appendChild(h('li', { class: 'commit' },
      oidNode,
      h('span', { class: 'commit-message' }, commit.message || ''),
      h('span', { class: 'commit-meta' },
        commit.author ? h('span', { class: 'commit-author' }, commit.author) : null,
        commit.author && when ? ' \u00B7 ' : null,
        when ? timeElement(when, relativeTime(when)) : null)));
  }
  return h('section', { class: 'repo-section repo-commits' }, h('h4', null, 'Recent commits'), list);
}

function rateLimitFooter(repo) {
  const limit = repo.rateLimit;
  if (!limit || !isNumber(limit.remaining)) return null;
  const reset = parseDate(limit.resetAt);
  let resetText = null;
  if (reset) {
    resetText = reset.getTime() > Date.now()
      ? [' \u00B7 resets ', timeElement(reset, retryPhrase(reset))]
      : [' \u00B7 reset ', timeElement(reset, timeFormat.format(reset))];
  }
  return h('p', { class: 'repo-rate-limit' },
    'GitHub API: ', h('strong', null, formatCount(limit.remaining)), ' requests left', resetText);
}

function renderRepoCard(entry, repo) {
  const card = entry.card;
  card.classList.remove('has-error');
  const url = safeHttpUrl(repo.url) || `https://github.com/${encodeURIComponent(entry.owner)}/${encodeURIComponent(entry.name)}`;
  const title = h('a', { href: url, class: 'repo-link' }, repo.nameWithOwner);
  const primary = repo.primaryLanguage && repo.primaryLanguage.name ? repo.primaryLanguage : null;
  let primaryNode = null;
  if (primary) {
    const dot = h('span', { class: 'lang-dot', 'aria-hidden': 'true' });
    dot.style.backgroundColor = safeColor(primary.color, '#6b7280');
    primaryNode = h('p', { class: 'repo-primary-language' },
      h('span', { class: 'meta-label' }, 'Primary language'), ' ', dot, h('span', null, primary.name));
  }
  clear(card);
  append(card, [
    cardHeader(entry, title, badgesFor(repo)),
    repo.description ? h('p', { class: 'repo-description' }, repo.description) : h('p', { class: 'repo-description is-empty' }, 'No description.'),
    h('dl', { class: 'repo-stats' },
      stat('Stars', repo.stars, 'repo-stars'),
      stat('Forks', repo.forks, 'repo-forks'),
      stat('Open issues', repo.openIssues, 'repo-issues'),
      stat('Open PRs', repo.openPullRequests, 'repo-prs')),
    primaryNode,
    languageSection(repo),
    releaseSection(repo),
    commitsSection(repo),
    rateLimitFooter(repo),
  ]);
}

/** Wires the add-a-repository form and loads the default cards. `types` is problem-types.json (or null). */
export function initRepos(types) {
  problemTypes = types;
  const form = $('repo-form');
  const input = $('repo-input');
  const errorArea = $('repo-form-error');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const repo = parseRepoInput(input.value);
    if (!repo) {
      input.setAttribute('aria-invalid', 'true');
      showAlert(errorArea, { tone: 'error', text: 'Enter a repository as owner/name, for example apple/swift-nio.' });
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    clear(errorArea);
    input.value = '';
    addRepo(repo, { focus: true, prepend: true });
  });
  input.addEventListener('input', () => {
    if (input.getAttribute('aria-invalid')) {
      input.removeAttribute('aria-invalid');
      clear(errorArea);
    }
  });
  for (const spec of DEFAULT_REPOS) addRepo(parseRepoInput(spec));
}
