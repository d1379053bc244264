// The widget manager (embed-amd.js) defines AMD modules named "@jupyter-widgets/..." and loads its fonts relative
// to each module's path. Map those names onto the vendored copy in _static/ipywidgets/, relative to the page's
// content root, so the fonts load offline on pages at any depth. Loaded after require.js and before
// embed-amd.js (see _config.yml).
(function () {
  var dir = (document.documentElement.dataset.content_root || "./") + "_static/ipywidgets";
  require.config({
    paths: {
      "@jupyter-widgets": dir,                      // @jupyter-widgets/base, /controls, /html-manager
      "@jupyter-widgets/html-manager/dist": dir,    // @jupyter-widgets/html-manager/dist/libembed-amd
    },
  });
})();
