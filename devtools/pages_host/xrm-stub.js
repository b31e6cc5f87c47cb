// A stub of the documented Xrm client API, as much of it as the acds_ pages use, for the local
// demo and the browser tests. The host page sets window.__acdsHost = {userId, userName, record}.
// Anything the pages call that is not here throws, so a page cannot come to rely on it unnoticed.
(function () {
  "use strict";
  var host = window.__acdsHost;
  var ENTITY_SETS = { systemuser: "systemusers", environmentvariabledefinition: "environmentvariabledefinitions" };

  function entitySet(name) {
    var set = ENTITY_SETS[name];
    if (!set) throw new Error("Xrm stub: WebApi on table " + name + " is not stubbed");
    return set;
  }

  function webApiCall(path) {
    return fetch(location.origin + "/api/data/v9.2/" + path, {
      headers: { Accept: "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0" },
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var e = (body && body.error) || {};
          throw { errorCode: r.status, message: e.message || "HTTP " + r.status, code: e.code };
        }
        return body;
      });
    });
  }

  function openPane(options) {
    var id = options.paneId || "pane-" + Math.random().toString(36).slice(2);
    var region = document.getElementById("side-panes");
    var box = document.createElement("section");
    box.className = "side-pane";
    box.setAttribute("aria-label", options.title || "Side pane");
    box.style.width = (options.width || 340) + "px";
    var header = document.createElement("header");
    header.textContent = options.title || "";
    var frame = document.createElement("iframe");
    frame.title = options.title || "Side pane";
    frame.name = id;
    box.appendChild(header);
    box.appendChild(frame);
    region.appendChild(box);
    var pane = {
      paneId: id,
      navigate: function (input) {
        if (input.pageType !== "webresource") return Promise.reject(new Error("Xrm stub: only webresource pages"));
        frame.src = "/WebResources/" + input.webresourceName + (input.data ? "?data=" + encodeURIComponent(input.data) : "");
        return Promise.resolve();
      },
      close: function () { box.remove(); delete panes[id]; },
    };
    panes[id] = pane;
    return pane;
  }
  var panes = {};

  window.Xrm = {
    Utility: {
      getGlobalContext: function () {
        return {
          userSettings: { userId: "{" + host.userId.toUpperCase() + "}", userName: host.userName },
          getClientUrl: function () { return location.origin; },
        };
      },
    },
    WebApi: {
      retrieveRecord: function (entity, id, options) {
        return webApiCall(entitySet(entity) + "(" + id.replace(/[{}]/g, "") + ")" + (options || ""));
      },
      retrieveMultipleRecords: function (entity, options) {
        return webApiCall(entitySet(entity) + (options || "")).then(function (body) {
          return { entities: body.value, nextLink: body["@odata.nextLink"] };
        });
      },
    },
    Navigation: {
      openUrl: function (url) { window.open(url, "_blank", "noopener"); },
    },
    App: {
      sidePanes: {
        createPane: function (options) { return Promise.resolve(openPane(options)); },
        getPane: function (id) { return panes[id]; },
      },
    },
  };

  // The form context a command receives as PrimaryControl.
  window.__acdsFormContext = host.record && {
    data: { entity: {
      getId: function () { return "{" + host.record.id.toUpperCase() + "}"; },
      getEntityName: function () { return host.record.entity; },
    } },
  };
})();
