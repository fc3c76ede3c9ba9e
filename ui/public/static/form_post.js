// OAuth response_mode=form_post: submit the response to the client at once. Inline scripts are
// banned by the CSP, hence this file; the page's "Continue" button covers browsers without JS.
'use strict';
document.getElementById('form-post')?.submit();
