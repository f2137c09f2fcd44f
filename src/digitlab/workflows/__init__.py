"""Orchestration above the core: a run's settings (config), a training run into a folder
(run, run_lock), a hyperparameter search over runs (search, study), and the pictures they
write (plots). The command line and the web page call these; the core never does."""
