"""Files in and out: weights formats, the torch bridge (the only torch importer), uploads, exports, code
generation and the shipped trained models."""
