/* berth site: filtering, folding and search, in plain JavaScript. Every page works
   without it except search; nothing here loads anything from elsewhere. */
(function () {
  'use strict';

  var searchRows = [];
  /* Search index shards (search/index-N.js) call this. */
  window.berthSearchAdd = function (rows) {
    for (var i = 0; i < rows.length; i++) searchRows.push(rows[i]);
  };

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  /* Overview: fold nested groups (they start folded) and filter rows. */
  function setupFolding() {
    var buttons = document.querySelectorAll('button[data-fold]');
    function bodies() { return document.querySelectorAll('tbody[data-group]'); }
    function set(button, open) {
      var g = button.getAttribute('data-fold');
      var n = button.getAttribute('data-count') || '';
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      button.textContent = (open ? 'Hide ' : 'Show ') + n;
      bodies().forEach(function (tb) {
        var p = tb.getAttribute('data-group');
        if (open && tb.getAttribute('data-nested') === g) {
          tb.hidden = false; tb.removeAttribute('data-folded');
        } else if (!open && p.indexOf(g + '/') === 0) {
          tb.hidden = true; tb.setAttribute('data-folded', '');
          var inner = tb.querySelector('button[data-fold]');
          if (inner) { inner.setAttribute('aria-expanded', 'false'); inner.textContent = 'Show ' + (inner.getAttribute('data-count') || ''); }
        }
      });
    }
    buttons.forEach(function (b) {
      b.setAttribute('data-count', b.textContent.replace(/^Hide /, ''));
      b.hidden = false;
      b.addEventListener('click', function () { set(b, b.getAttribute('aria-expanded') !== 'true'); });
    });
    /* Fold the groups nested below a group shown on this page. */
    buttons.forEach(function (b) {
      var parentBody = b.closest('tbody');
      if (parentBody && !parentBody.hasAttribute('data-nested')) set(b, false);
    });
  }

  function setupRowFilter() {
    document.querySelectorAll('form[data-filter-rows]').forEach(function (form) {
      var table = document.getElementById(form.getAttribute('data-filter-rows'));
      var input = form.querySelector('input');
      var out = form.querySelector('output');
      if (!table || !input) return;
      form.hidden = false;
      form.addEventListener('submit', function (e) { e.preventDefault(); });
      input.addEventListener('input', function () {
        var q = input.value.trim().toLowerCase();
        var shown = 0, total = 0;
        table.querySelectorAll('tr[data-search]').forEach(function (tr) {
          total++;
          var ok = !q || tr.getAttribute('data-search').indexOf(q) >= 0;
          tr.hidden = !ok;
          if (ok) shown++;
        });
        table.querySelectorAll('tbody[data-group]').forEach(function (tb) {
          if (q) tb.hidden = !tb.querySelector('tr[data-search]:not([hidden])');
          else tb.hidden = tb.hasAttribute('data-folded');
        });
        out.textContent = q ? shown + ' of ' + plural(total, 'component', 'components') + ' on this page match' : '';
      });
    });
  }

  /* Findings tables: filter by rule, severity and team. */
  function setupFindingFilters() {
    document.querySelectorAll('form[data-filter-table]').forEach(function (form) {
      var table = document.getElementById(form.getAttribute('data-filter-table'));
      if (!table) return;
      var selects = form.querySelectorAll('select[data-filter]');
      var out = form.querySelector('output');
      var rows = table.querySelectorAll('tbody tr');
      form.hidden = false;
      function apply() {
        var shown = 0;
        rows.forEach(function (tr) {
          var ok = true;
          selects.forEach(function (s) {
            if (s.value && tr.getAttribute('data-' + s.getAttribute('data-filter')) !== s.value) ok = false;
          });
          tr.hidden = !ok;
          if (ok) shown++;
        });
        out.textContent = shown + ' of ' + plural(rows.length, 'finding', 'findings') + ' shown';
      }
      selects.forEach(function (s) { s.addEventListener('change', apply); });
    });
  }

  /* Search: rows are [path, latest, team, owner team, labels, archs, domains]. */
  function setupSearch() {
    var form = document.getElementById('search');
    var list = document.getElementById('search-results');
    var status = document.getElementById('search-status');
    if (!form || !list || !status) return;
    var LIMIT = 100;
    var fields = {
      name: document.getElementById('q-name'),
      team: document.getElementById('q-team'),
      label: document.getElementById('q-label'),
      arch: document.getElementById('q-arch')
    };
    var params = new URLSearchParams(window.location.search);
    Object.keys(fields).forEach(function (k) {
      if (params.get(k)) fields[k].value = params.get(k);
    });
    function matches(r, q) {
      if (q.name && r[0].toLowerCase().indexOf(q.name) < 0) return false;
      if (q.team && r[2].toLowerCase().indexOf(q.team) < 0 && r[3].toLowerCase().indexOf(q.team) < 0) return false;
      if (q.label) {
        var labels = r[4] ? r[4].toLowerCase().split(' ') : [];
        var ok = labels.some(function (l) {
          return q.label.indexOf('=') >= 0 ? l === q.label : l.split('=')[0] === q.label;
        });
        if (!ok) return false;
      }
      if (q.arch) {
        var archs = r[5] ? r[5].split(' ') : [];
        if (archs.indexOf(q.arch) < 0 && archs.indexOf('all') < 0) return false;
      }
      return true;
    }
    function run() {
      var q = {
        name: fields.name.value.trim().toLowerCase(),
        team: fields.team.value.trim().toLowerCase(),
        label: fields.label.value.trim().toLowerCase(),
        arch: fields.arch.value
      };
      var hits = searchRows.filter(function (r) { return matches(r, q); });
      while (list.firstChild) list.removeChild(list.firstChild);
      hits.slice(0, LIMIT).forEach(function (r) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = 'c/' + r[0] + '/index.html';
        a.textContent = r[0];
        li.appendChild(a);
        var parts = [];
        if (r[1]) parts.push('latest ' + r[1]);
        if (r[3]) parts.push('owner ' + r[3]);
        if (r[2] && r[2] !== r[3]) parts.push('team ' + r[2]);
        if (r[5]) parts.push(r[5]);
        if (r[4]) parts.push(r[4]);
        var span = document.createElement('span');
        span.className = 'detail';
        span.textContent = ' ' + parts.join(' · ');
        li.appendChild(span);
        list.appendChild(li);
      });
      var any = q.name || q.team || q.label || q.arch;
      var text = any
        ? plural(hits.length, 'component matches', 'components match')
        : plural(searchRows.length, 'component', 'components') + ' in the index';
      if (hits.length > LIMIT) text += '; showing the first ' + LIMIT;
      status.textContent = text + '.';
      status.setAttribute('data-count', String(hits.length));
    }
    form.hidden = false;
    form.addEventListener('submit', function (e) { e.preventDefault(); run(); });
    Object.keys(fields).forEach(function (k) {
      fields[k].addEventListener('input', run);
      fields[k].addEventListener('change', run);
    });
    run();
  }

  document.addEventListener('DOMContentLoaded', function () {
    setupFolding();
    setupRowFilter();
    setupFindingFilters();
    setupSearch();
  });
})();
