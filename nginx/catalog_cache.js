// The catalog's cache version, which keys the gateway's cache of public catalog answers.
// catalog writes it to a file after every write commits (catalog/cache.py); nginx reads it on
// each request, so a write is seen at once. No file, no version: the request goes to catalog.
const fs = require('fs');

function version(r) {
    try {
        return fs.readFileSync(r.variables.catalog_cache_version_file, 'utf8').trim();
    } catch (e) {
        return '';
    }
}

export default { version };
