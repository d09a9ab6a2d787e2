"""The ``snn`` command line. Nothing else in the package imports from here."""
