<?php

declare(strict_types=1);

// Front controller: every request (php -S router script, php-fpm, Apache fallback) lands here.
require __DIR__ . '/../src/app.php';

app_run();
