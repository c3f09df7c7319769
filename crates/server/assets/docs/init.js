// Starts Swagger UI on our own schema. A file, not an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts. validatorUrl null: the default badge would
// call validator.swagger.io.
window.ui = SwaggerUIBundle({
  url: "/api/schema/",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
});
