"""The dashboard's pages, one thin file per page. ``st.navigation`` runs them as scripts
(``streamlit_app/app.py``); nothing imports them as modules. Each page's code lives in
``streamlit_app.<page>.page``."""
