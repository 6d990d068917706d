"""Cargoman: a private Composer package registry."""
