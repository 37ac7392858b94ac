// The API documentation page (/api/docs): Swagger UI from the app's own files, no CDN, no inline script.
window.addEventListener("load", function () {
  window.SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
});
