"""The Packagist proxy: public packages cached alongside the private ones (Pro and higher)."""
