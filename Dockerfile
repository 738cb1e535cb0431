# The gateway. The legacy application has its own image (docker/legacy.Dockerfile, PHP-FPM);
# docker-compose.yml runs both with MariaDB and mounts legacy/public into both, the document root
# whose files the gateway serves and whose scripts it names to PHP-FPM over FastCGI. The native handlers reach MariaDB through pymysql
# here: mysqlclient, which scripts/setup.sh builds when it can, needs a compiler and the MariaDB
# client library that this slim image leaves out (handlers/mysql.py picks whichever is there).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY proxy ./proxy
COPY handlers ./handlers
COPY shadow ./shadow
RUN pip install --no-cache-dir . && mkdir -p /app/var
EXPOSE 8000
CMD ["strangler", "serve", "--host", "0.0.0.0", "--port", "8000", "--config", "/app/routing.yaml"]
