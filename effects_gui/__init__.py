"""skyseg-editor: a PyQt6 desktop editor to find, refine, replace, tint and relight the sky.

Layout: :mod:`.model` holds the edit (no widgets), :mod:`.brush` and :mod:`.pipeline` are
pure numpy, :mod:`.jobs` runs the slow work on a thread pool and reports by signal,
:mod:`.commands` makes every edit undoable, the widgets (:mod:`.canvas`, :mod:`.panels`,
:mod:`.window`) only show the model and forward the user's actions.
"""
